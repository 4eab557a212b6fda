/**
 * Parquet datasets of a pool's items (the seed's DaskBuffer files): `exportParquet`
 * streams pool pages into the core's writer, `importParquet` streams the core's pages
 * into `pool.store`. The layout (columns, metadata, Hive partitions) and every check of
 * a dataset live in the core (`crates/expbuf-core/src/parquet/`); this module only
 * shapes pages and handles the all-or-nothing of an import.
 */
import { describe, type Layout, type Schema, type TypedArray, type TypedField } from '../schema.js';
import { invalid } from '../errors.js';
import { native, type ParquetItem } from '../native/binding.js';
import { checkPageSize, checkQuery, poolLayout, type ItemInput, type PoolQuery, type StoredItem } from './items.js';
import type { Pool } from './pool.js';

export interface ExportParquetOptions {
  /** Which items to write (default: all). */
  query?: PoolQuery;
  /** Meta keys to partition by, in directory order (`vehicle=v1/driver=d7/`); every item needs them. */
  partitionBy?: readonly string[];
  /** Items per pool page, and so per row group (default `INFO.defaults.pageSize`, 256): memory holds one page. */
  pageSize?: number;
}

/** What an export wrote. */
export interface ParquetExportSummary {
  files: number;
  items: number;
  rows: number;
  /** The dataset's size on disk. */
  bytes: number;
}

export interface ImportParquetOptions {
  /** Items per `pool.store` call (default `INFO.defaults.pageSize`, 256). */
  pageSize?: number;
}

/** What an import stored. */
export interface ParquetImportSummary {
  files: number;
  items: number;
  rows: number;
}

function checkDir(dir: unknown): string {
  if (typeof dir !== 'string' || dir.length === 0) throw invalid(`dir: expected a directory path, got ${describe(dir)}`);
  return dir;
}

/** An item as the core's dataset writer takes it. */
function describeItem<S extends Schema>(it: StoredItem<S>): ParquetItem {
  if (it.kind === 'record') return { kind: 'record', id: it.id, time: it.timestamp, rows: 1, meta: it.meta };
  return { kind: 'episode', id: it.id, time: it.startTime, rows: it.seqLen, terminated: it.terminated, final: it.finalState !== undefined, meta: it.meta };
}

const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/**
 * Writes the items of `pool` that match `options.query` as a Parquet dataset in the new
 * directory `dir`: one row per step (see the README's layout), Hive directories for
 * `partitionBy`. The dataset appears whole or not at all: files are written into a
 * temporary sibling that is renamed to `dir` at the end. Memory holds one pool page.
 * @throws `EXPBUF_INVALID_ARGUMENT` for an unknown option, a `dir` that exists, an item
 *   without a `partitionBy` key; `EXPBUF_SCHEMA_MISMATCH` for a meta key named like a
 *   column or holding strings in some items and numbers in others; `EXPBUF_IO`
 */
export async function exportParquet<S extends Schema>(pool: Pool<S>, dir: string, options?: ExportParquetOptions): Promise<ParquetExportSummary> {
  native.checkOptions(options, 'options', ['query', 'partitionBy', 'pageSize']);
  const query = checkQuery(options?.query);
  const pageSize = checkPageSize(options?.pageSize);
  const layout = poolLayout(pool.schema);
  const writer = native.parquetExportBegin(checkDir(dir), layout.info, options?.partitionBy);
  // One page is encoded (off the JS thread) while the pool reads the next: the native
  // call copies the page before it returns, so the pool's arrays are free again.
  let writing: Promise<void> | undefined;
  try {
    for await (const page of pool.iterate(query, { pageSize })) {
      if (page.length === 0) continue;
      const steps = page.map((it) => (it.kind === 'episode' ? it.steps : it.step) as unknown as Record<string, TypedArray>);
      const finals: Uint8Array[] = [];
      for (const it of page) if (it.kind === 'episode' && it.finalState !== undefined) finals.push(bytes(it.finalState));
      await writing;
      writing = native.parquetExportWrite(
        writer,
        page.map(describeItem),
        layout.typed.map((f) => steps.map((s) => bytes(s[f.name]))),
        finals,
      );
    }
    await writing;
    return await native.parquetExportFinish(writer);
  } catch (e) {
    await writing?.catch(() => undefined);
    native.parquetExportAbort(writer);
    throw e;
  }
}

/** A page from the core as items to store: views into its column buffers, no copies. */
function pageItems<S extends Schema>(layout: Layout, items: readonly ParquetItem[], columns: readonly ArrayBuffer[], finals: ArrayBuffer): ItemInput<S>[] {
  const state = layout.typed.find((f) => f.name === 'state');
  const view = (f: TypedField, buffer: ArrayBuffer, element: number, elements: number) => new f.ctor(buffer, element * f.ctor.BYTES_PER_ELEMENT, elements);
  let row = 0;
  let final = 0;
  return items.map((it) => {
    const steps: Record<string, ArrayLike<number>> = {};
    layout.typed.forEach((f, k) => {
      steps[f.name] = view(f, columns[k], row * f.elements, it.rows * f.elements);
    });
    row += it.rows;
    if (it.kind === 'record') return { id: it.id, meta: it.meta, timestamp: it.time, step: steps } as unknown as ItemInput<S>;
    const episode: Record<string, unknown> = { id: it.id, meta: it.meta, startTime: it.time, steps, terminated: it.terminated ?? true };
    if (it.final && state !== undefined) episode.finalState = view(state, finals, final++ * state.elements, state.elements);
    return episode as unknown as ItemInput<S>;
  });
}

/**
 * Stores the items of the Parquet dataset in `dir` (as `exportParquet` writes it) in
 * `pool`, keeping their ids, meta, times, steps, `terminated` and `finalState`. All or
 * nothing, per call: every file is read and checked before the first item is stored,
 * and if a store fails part-way (an id the pool already holds, a full disk) the items
 * this call stored are deleted again before the error is thrown. A process killed
 * part-way leaves what it had stored.
 * @throws `EXPBUF_SCHEMA_MISMATCH` (naming the file and column) for a dataset of other
 *   fields, dtypes or shapes, or with missing or extra columns; `EXPBUF_CORRUPT_STATE`
 *   (naming the file) for a truncated or damaged file; `EXPBUF_INVALID_ARGUMENT`;
 *   `EXPBUF_IO`
 */
export async function importParquet<S extends Schema>(dir: string, pool: Pool<S>, options?: ImportParquetOptions): Promise<ParquetImportSummary> {
  native.checkOptions(options, 'options', ['pageSize']);
  const pageSize = checkPageSize(options?.pageSize);
  const layout = poolLayout(pool.schema);
  const { reader, files, items, rows } = await native.parquetImportOpen(checkDir(dir), layout.info);
  const stored: string[] = [];
  // The next page is decoded (off the JS thread) while the pool stores this one.
  let next = native.parquetImportNext(reader, pageSize);
  try {
    for (;;) {
      const page = await next;
      if (page === null) break;
      next = native.parquetImportNext(reader, pageSize);
      stored.push(...(await pool.store(pageItems<S>(layout, page.items, page.columns, page.finals))));
    }
  } catch (e) {
    // Undo this call's stores; the error that stopped it is the one to report.
    for (const id of stored) await pool.delete(id).catch(() => false);
    throw e;
  } finally {
    await next.catch(() => null);
    native.parquetImportClose(reader);
  }
  return { files, items, rows };
}
