/**
 * What a pool stores: episodes (a run of steps as typed columns) and records (one
 * step), each with string/number metadata; and the queries that select them. Both
 * backends take these types and follow these rules.
 */
import { ExpbufError, invalid } from '../errors.js';
import { INFO, native } from '../native/binding.js';
import { encodeBatch, writeValue } from '../rows/columns.js';
import { describe, layoutOf, type BatchOf, type DataOf, type Layout, type Schema, type StepOf, type TypedArray, type TypedField } from '../schema.js';

export type Meta = Record<string, string | number>;

/** An episode to store: its steps as one column per field (all the same row count). */
export interface EpisodeInput<S extends Schema> {
  id?: string;
  meta?: Meta;
  /** ms since the epoch; default: now. */
  startTime?: number;
  steps: BatchOf<S>;
  /** The state after the last step (the schema's `state` field spec), when known. */
  finalState?: ArrayLike<number>;
  /** Whether the episode ended by termination (default true); false: cut short (e.g. a time limit), its last transition bootstraps from `finalState`. */
  terminated?: boolean;
}

/** A record to store: one step. */
export interface RecordInput<S extends Schema> {
  id?: string;
  meta?: Meta;
  /** ms since the epoch; default: now. */
  timestamp?: number;
  step: StepOf<S>;
}

export type ItemInput<S extends Schema> = EpisodeInput<S> | RecordInput<S>;

export interface StoredEpisode<S extends Schema> {
  kind: 'episode';
  id: string;
  /** Storage sequence: increasing in the order items became durable. */
  seq: number;
  meta: Meta;
  startTime: number;
  seqLen: number;
  steps: DataOf<S>;
  /** True unless the episode was cut short; items stored without it count as terminated. */
  terminated: boolean;
  /** The state after the last step, when it was stored. */
  finalState?: TypedArray;
}

export interface StoredRecord<S extends Schema> {
  kind: 'record';
  id: string;
  /** Storage sequence: increasing in the order items became durable. */
  seq: number;
  meta: Meta;
  timestamp: number;
  step: DataOf<S>;
}

export type StoredItem<S extends Schema> = StoredEpisode<S> | StoredRecord<S>;

/** An inclusive range; either end may be left open. */
export interface TimeRange {
  from?: number;
  to?: number;
}

/**
 * Selects items: every given condition must hold. `startTime` and `seqLen` select
 * episodes, `timestamp` records; `limit` caps the result (oldest stored first).
 */
export interface PoolQuery {
  kind?: 'episode' | 'record';
  meta?: Meta;
  startTime?: TimeRange;
  timestamp?: TimeRange;
  seqLen?: { min?: number; max?: number };
  limit?: number;
}

/** What every backend knows about an item without reading its steps. */
export interface ItemSummary {
  kind: 'episode' | 'record';
  id: string;
  meta: Meta;
  /** startTime of an episode, timestamp of a record. */
  time: number;
  rows: number;
  /** An episode's end; absent (items stored before it existed): terminated. */
  terminated?: boolean;
  /** Whether a final state follows the steps' bytes. */
  final?: boolean;
}

function checkMeta(meta: unknown, where: string): Meta {
  if (meta === undefined) return {};
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta))
    throw new ExpbufError('EXPBUF_BAD_VALUE', `${where}: expected an object of strings and numbers, got ${describe(meta)}`);
  for (const [k, v] of Object.entries(meta)) {
    if (k.length === 0) throw new ExpbufError('EXPBUF_BAD_VALUE', `${where}: empty key`);
    // Every backend, not only MongoDB's: an item must fit any pool it is copied into
    // (another backend, a Parquet export), and a query must mean the same everywhere.
    // MongoDB reads a leading `$` as an operator and a `.` as a path into the metadata;
    // NUL ends C strings and file names.
    if (k.startsWith('$') || k.includes('.') || k.includes('\0')) {
      throw invalid(
        `${where}: key ${JSON.stringify(k)} starts with '$' or holds '.' or NUL (a key names one metadata field, it is never an operator or a path)`,
      );
    }
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      throw new ExpbufError('EXPBUF_BAD_VALUE', `${where}.${k}: expected a string or a finite number, got ${describe(v)}`);
    }
  }
  return { ...(meta as Meta) };
}

function checkRange(r: unknown, name: string, integer = false): void {
  if (typeof r !== 'object' || r === null) throw invalid(`query.${name}: expected an object with from/to, got ${describe(r)}`);
  const keys = name === 'seqLen' ? ['min', 'max'] : ['from', 'to'];
  for (const k of Object.keys(r)) if (!keys.includes(k)) throw invalid(`query.${name}.${k}: unknown (expected ${keys.join(', ')})`);
  const [lo, hi] = keys.map((k) => (r as Record<string, unknown>)[k]);
  for (const [k, v] of [
    [keys[0], lo],
    [keys[1], hi],
  ] as const) {
    if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v) || (integer && !Number.isInteger(v)))) {
      throw invalid(`query.${name}.${k}: expected ${integer ? 'an integer' : 'a number'}, got ${describe(v)}`);
    }
  }
  if (typeof lo === 'number' && typeof hi === 'number' && lo > hi) throw invalid(`query.${name}: inverted range (${keys[0]} ${lo} > ${keys[1]} ${hi})`);
}

const QUERY_KEYS = ['kind', 'meta', 'startTime', 'timestamp', 'seqLen', 'limit'];

/** Checks a query; throws `EXPBUF_INVALID_ARGUMENT` naming the field. */
export function checkQuery(q: unknown): PoolQuery {
  if (q === undefined) return {};
  if (typeof q !== 'object' || q === null) throw invalid(`query: expected an object, got ${describe(q)}`);
  for (const k of Object.keys(q)) if (!QUERY_KEYS.includes(k)) throw invalid(`query.${k}: unknown field (fields are ${QUERY_KEYS.join(', ')})`);
  const query = q as PoolQuery;
  if (query.kind !== undefined && query.kind !== 'episode' && query.kind !== 'record')
    throw invalid(`query.kind: expected 'episode' or 'record', got ${describe(query.kind)}`);
  if (query.meta !== undefined) {
    try {
      checkMeta(query.meta, 'query.meta');
    } catch (e) {
      throw invalid((e as Error).message);
    }
  }
  if (query.startTime !== undefined) checkRange(query.startTime, 'startTime');
  if (query.timestamp !== undefined) checkRange(query.timestamp, 'timestamp');
  if (query.seqLen !== undefined) checkRange(query.seqLen, 'seqLen', true);
  if (query.limit !== undefined && !(Number.isInteger(query.limit) && query.limit >= 1)) throw invalid(`query.limit: ${query.limit} is not a positive integer`);
  return query;
}

const within = (v: number, r: TimeRange | undefined) => r === undefined || ((r.from === undefined || v >= r.from) && (r.to === undefined || v <= r.to));

/** Whether `item` satisfies the conditions of `q` (all but `limit`). */
export function matches(item: ItemSummary, q: PoolQuery): boolean {
  if (q.kind !== undefined && item.kind !== q.kind) return false;
  if ((q.startTime !== undefined || q.seqLen !== undefined) && item.kind !== 'episode') return false;
  if (q.timestamp !== undefined && item.kind !== 'record') return false;
  if (q.meta !== undefined) for (const [k, v] of Object.entries(q.meta)) if (item.meta[k] !== v) return false;
  if (item.kind === 'episode' && !within(item.time, q.startTime)) return false;
  if (item.kind === 'record' && !within(item.time, q.timestamp)) return false;
  if (q.seqLen !== undefined) {
    const { min, max } = q.seqLen;
    if ((min !== undefined && item.rows < min) || (max !== undefined && item.rows > max)) return false;
  }
  return true;
}

/** An item checked against the pool's schema: its steps as byte columns (one per typed field), then its final state's bytes when it has one. */
export interface EncodedItem {
  summary: ItemSummary;
  columns: Uint8Array[];
}

/** The typed `state` field a final state is of, or throws naming `where`. */
function stateField(layout: Layout, where: string): TypedField {
  const f = layout.typed.find((x) => x.name === 'state');
  if (f === undefined) throw new ExpbufError('EXPBUF_SCHEMA_MISMATCH', `${where}.finalState: the schema has no typed 'state' field`);
  return f;
}

/** An episode's final state, checked against the `state` field, as bytes. */
function encodeFinal(layout: Layout, value: unknown, where: string): Uint8Array {
  const f = stateField(layout, where);
  const out = new f.ctor(f.elements);
  try {
    writeValue(f, value, out, 0);
  } catch (e) {
    throw new ExpbufError('EXPBUF_BAD_VALUE', `${where}.finalState: ${(e as Error).message}`, { cause: e });
  }
  return new Uint8Array(out.buffer);
}

/** The pool's schema: typed fields only (a pool stores numbers as columns). */
export function poolLayout(schema: Schema): Layout {
  const layout = layoutOf(schema);
  if (layout.any.length > 0) throw invalid(`schema: field '${layout.any[0].name}' is 'any'; a pool stores typed fields only`);
  return layout;
}

/**
 * Checks and encodes items before anything is written: all of them or none.
 * @throws `EXPBUF_SCHEMA_MISMATCH` for steps of other fields; `EXPBUF_BAD_VALUE`, `EXPBUF_INVALID_ARGUMENT`
 */
export function encodeItems(layout: Layout, items: unknown, now: number, newId: () => string): EncodedItem[] {
  if (!Array.isArray(items)) throw invalid(`items: expected an array of episodes and records, got ${describe(items)}`);
  const seen = new Set<string>();
  return items.map((raw, i) => {
    const where = `items[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw new ExpbufError('EXPBUF_BAD_VALUE', `${where}: expected an episode or a record, got ${describe(raw)}`);
    const it = raw as {
      id?: unknown;
      meta?: unknown;
      steps?: unknown;
      step?: unknown;
      startTime?: unknown;
      timestamp?: unknown;
      finalState?: unknown;
      terminated?: unknown;
    };
    const isEpisode = it.steps !== undefined;
    if (isEpisode === (it.step !== undefined)) throw new ExpbufError('EXPBUF_BAD_VALUE', `${where}: an episode has 'steps', a record has 'step' (exactly one)`);
    const id = it.id === undefined ? newId() : it.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > 200)
      throw new ExpbufError('EXPBUF_BAD_VALUE', `${where}.id: expected a non-empty string of at most 200 characters`);
    if (seen.has(id)) throw invalid(`${where}.id: '${id}' appears twice in this call`);
    seen.add(id);
    const timeKey = isEpisode ? 'startTime' : 'timestamp';
    const time = it[timeKey] ?? now;
    if (typeof time !== 'number' || !Number.isFinite(time)) throw new ExpbufError('EXPBUF_BAD_VALUE', `${where}.${timeKey}: expected a finite number`);
    const meta = checkMeta(it.meta, `${where}.meta`);
    let encoded: ReturnType<typeof encodeBatch>;
    try {
      encoded = isEpisode ? encodeBatch(layout, it.steps) : encodeBatch(layout, stepAsColumns(layout, it.step));
    } catch (e) {
      const err = e as ExpbufError;
      const code = err.code === 'EXPBUF_MISSING_FIELD' || err.code === 'EXPBUF_UNKNOWN_FIELD' ? 'EXPBUF_SCHEMA_MISMATCH' : err.code;
      throw new ExpbufError(code, `${where}.${isEpisode ? 'steps' : 'step'}: ${err.message}`, { cause: e });
    }
    if (isEpisode && encoded.rows === 0) throw new ExpbufError('EXPBUF_BAD_VALUE', `${where}.steps: an episode needs at least one step`);
    if (!isEpisode) {
      if (it.finalState !== undefined || it.terminated !== undefined)
        throw new ExpbufError('EXPBUF_BAD_VALUE', `${where}: a record has no finalState or terminated (an episode has)`);
      return { summary: { kind: 'record', id, meta, time, rows: encoded.rows }, columns: encoded.typed };
    }
    if (it.terminated !== undefined && typeof it.terminated !== 'boolean')
      throw new ExpbufError('EXPBUF_BAD_VALUE', `${where}.terminated: expected a boolean, got ${describe(it.terminated)}`);
    const terminated = it.terminated ?? true;
    const columns = encoded.typed;
    if (it.finalState !== undefined) columns.push(encodeFinal(layout, it.finalState, where));
    return { summary: { kind: 'episode', id, meta, time, rows: encoded.rows, terminated, final: it.finalState !== undefined }, columns };
  });
}

function stepAsColumns(layout: Layout, step: unknown): unknown {
  if (typeof step !== 'object' || step === null) return step;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(step)) out[k] = layout.names.includes(k) ? [v] : v;
  return out;
}

/** Options of `Pool.iterate`. */
export interface IterateOptions {
  /** Items per page (default `INFO.defaults.pageSize`, 256; at most `INFO.defaults.maxPageSize`). */
  pageSize?: number;
  /** Only items whose `seq` is greater: a follower's cursor. */
  after?: number;
}

/** Checks an iterate page size (default `INFO.defaults.pageSize`; at most `maxPageSize`, since a page is read whole). */
export function checkPageSize(pageSize: unknown): number {
  const n = pageSize ?? INFO.defaults.pageSize;
  const max = INFO.defaults.maxPageSize;
  if (!(typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= max)) throw invalid(`pageSize: ${String(n)} is not an integer in [1, ${max}]`);
  return n;
}

/** Checks `iterate`'s options; returns the page size and cursor. */
export function checkIterateOptions(options: unknown): { pageSize: number; after: number } {
  native.checkOptions(options, 'options', ['pageSize', 'after']);
  const o = (options ?? {}) as IterateOptions;
  return { pageSize: checkPageSize(o.pageSize), after: checkAfter(o.after) };
}

/** Checks `sample`'s size and options; returns the query. */
export function checkSample(size: unknown, options: unknown): PoolQuery {
  if (!(typeof size === 'number' && Number.isInteger(size) && size >= 1 && size <= INFO.defaults.maxPageSize)) {
    throw invalid(`size: ${String(size)} is not an integer in [1, ${INFO.defaults.maxPageSize}]`);
  }
  native.checkOptions(options, 'options', ['query']);
  return checkQuery((options as { query?: unknown } | undefined)?.query);
}

/**
 * Checks the `pool` parameter of a server URL: lowercase letters, digits and `_`, at
 * most 41, since the name becomes table or collection names.
 * @throws `EXPBUF_INVALID_ARGUMENT`
 */
export function checkPoolName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(name)) throw invalid(`url: pool name '${name}' must be lowercase letters, digits and _ (at most 41)`);
  return name;
}

/** Checks an id given to `delete`. */
export function checkId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) throw invalid(`id: expected an item id (a non-empty string), got ${describe(id)}`);
  return id;
}

/**
 * A server's failure as `EXPBUF_IO` naming the server (`what`, e.g. "PostgreSQL at
 * host:port"), the driver's error as the cause; an `ExpbufError` passes through.
 */
export function serverFailure(e: unknown, what: string): unknown {
  return e instanceof ExpbufError ? e : new ExpbufError('EXPBUF_IO', `pool: ${what} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

/** The error for a store of an id the pool already holds. */
export function alreadyStored(id: string, cause?: unknown): ExpbufError {
  return invalid(`items: id '${id}' is already stored`, cause);
}

/** `EXPBUF_SCHEMA_MISMATCH` unless a pool made for `saved` fields can take `layout`'s. */
export function checkPoolFields(saved: unknown, layout: Layout, where: string): void {
  native.expectSameFields(saved, layout.info, `the pool at ${where}`, 'the schema');
}

/** Bytes of an item's stored columns (steps, and the final state when it has one). */
export function itemBytes(layout: Layout, summary: ItemSummary): number {
  const row = layout.typed.reduce((n, f) => n + f.elements * f.ctor.BYTES_PER_ELEMENT, 0);
  const final = summary.final ? stateField(layout, 'item').elements * stateField(layout, 'item').ctor.BYTES_PER_ELEMENT : 0;
  return summary.rows * row + final;
}

/** An item from its summary and its columns' bytes (field after field, then the final state), copied into aligned arrays. */
export function storedItem<S extends Schema>(layout: Layout, summary: ItemSummary, bytes: Uint8Array, seq: number): StoredItem<S> {
  const data: Record<string, TypedArray> = {};
  let at = 0;
  const take = (f: TypedField, elements: number): TypedArray => {
    const arr = new f.ctor(elements);
    new Uint8Array(arr.buffer).set(bytes.subarray(at, at + arr.byteLength));
    at += arr.byteLength;
    return arr;
  };
  for (const f of layout.typed) data[f.name] = take(f, summary.rows * f.elements);
  const cols = data as unknown as DataOf<S>;
  const meta = { ...summary.meta };
  if (summary.kind === 'record') return { kind: 'record', id: summary.id, seq, meta, timestamp: summary.time, step: cols };
  const episode: StoredEpisode<S> = {
    kind: 'episode',
    id: summary.id,
    seq,
    meta,
    startTime: summary.time,
    seqLen: summary.rows,
    steps: cols,
    terminated: summary.terminated ?? true,
  };
  if (summary.final) {
    const f = stateField(layout, 'item');
    episode.finalState = take(f, f.elements);
  }
  return episode;
}

/** Checks an iterate cursor (default 0: from the start). */
export function checkAfter(after: unknown): number {
  const n = after ?? 0;
  if (!(typeof n === 'number' && Number.isInteger(n) && n >= 0)) throw invalid(`options.after: ${String(n)} is not a non-negative integer`);
  return n;
}

/** Items' rows as one column per typed field, and each row's item time. */
export function concatItems<S extends Schema>(
  layout: Layout,
  items: StoredItem<S>[],
): { rows: number; columns: Record<string, TypedArray>; times: Float64Array } {
  const rows = items.reduce((n, it) => n + (it.kind === 'episode' ? it.seqLen : 1), 0);
  const columns: Record<string, TypedArray> = {};
  for (const f of layout.typed) {
    const out = new f.ctor(rows * f.elements);
    let at = 0;
    for (const it of items) {
      const col = (it.kind === 'episode' ? it.steps : it.step) as unknown as Record<string, TypedArray>;
      out.set(col[f.name], at);
      at += col[f.name].length;
    }
    columns[f.name] = out;
  }
  const times = new Float64Array(rows);
  let r = 0;
  for (const it of items) {
    const n = it.kind === 'episode' ? it.seqLen : 1;
    times.fill(it.kind === 'episode' ? it.startTime : it.timestamp, r, r + n);
    r += n;
  }
  return { rows, columns, times };
}
