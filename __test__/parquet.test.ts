/**
 * Parquet datasets with real clients: pyarrow (Hive partitioning) and pandas read every
 * column of an export byte for byte as the pool holds it, DuckDB and Dask count its rows
 * per vehicle, and an export → import round trip gives the items back. Bad datasets and options are
 * refused with the documented codes, and a failed import stores nothing.
 *
 * pyarrow, DuckDB, pandas and Dask come from the venv of scripts/python-env.mjs (built on
 * first use).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportParquet, importParquet, openPool, type Pool, type StoredItem } from '../ts/index.js';
import { ensurePython } from '../scripts/python-env.mjs';

const SCRIPT = fileURLToPath(new URL('./python/parquet_read.py', import.meta.url));
const schema = {
  state: { dtype: 'float32', shape: [2, 3] },
  action: 'int32',
  reward: 'float64',
  flags: { dtype: 'uint8', shape: [4] },
} as const;
type S = typeof schema;
const FIELDS = [
  { name: 'state', dtype: 'float32', shape: [2, 3] },
  { name: 'action', dtype: 'int32', shape: [] },
  { name: 'reward', dtype: 'float64', shape: [] },
  { name: 'flags', dtype: 'uint8', shape: [4] },
];
/** Vehicles whose names would be paths if they were not escaped. */
const VEHICLES = ['v1', 'v2', '../../evil', 'a=b%c/d'];

const root = mkdtempSync(join(tmpdir(), 'expbuf-parquet-'));
let python: string;
let pool: Pool<S>;
let n = 0;
const fresh = (name: string) => join(root, `${name}-${n++}`);

interface Read {
  rows: number;
  columns: string[];
  types: Record<string, string>;
  id: string[];
  kind: string[];
  step: number[];
  time: number[];
  terminated: (boolean | null)[];
  vehicle: string[];
  driver: number[];
  fields: Record<string, string>;
  final_state: (string | null)[];
  final_states: number;
  files: {
    path: string;
    rows: number;
    row_groups: number;
    schema_metadata: string[];
    expbuf: { partitionBy: string[]; fields: unknown[]; meta: { key: string; type: string }[] };
    codec: string;
  }[];
  duckdb_counts: Record<string, number>;
  pandas: { rows: number; vehicle_counts: Record<string, number>; fields: Record<string, string> };
  dask: { rows: number; vehicle_counts: Record<string, number>; reward_sum: number };
}

async function py(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(python, [SCRIPT, ...args], { maxBuffer: 256 << 20 });
  return stdout;
}

const readDataset = async (dir: string): Promise<Read> => JSON.parse(await py('read', dir, JSON.stringify(FIELDS))) as Read;

const b64 = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** Items as comparable plain data (no `seq`, which a pool gives out). */
function plain(items: StoredItem<S>[]) {
  return items
    .map((it) => {
      const { seq: _seq, ...rest } = it;
      return rest;
    })
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out.sort();
}

beforeAll(async () => {
  python = await ensurePython();
  pool = await openPool(join(root, 'pool'), { schema });
  const items = [];
  const t = 1_700_000_000_000.125;
  for (let e = 0; e < 24; e++) {
    const len = 1 + ((e * 7) % 13);
    const state = Float32Array.from({ length: len * 6 }, (_, i) => e + i / 8 - 0.3);
    const action = Int32Array.from({ length: len }, (_, i) => ((i * e) % 5) - 2);
    const reward = Float64Array.from({ length: len }, (_, i) => Math.PI * i - e);
    const flags = Uint8Array.from({ length: len * 4 }, (_, i) => (i * 37 + e) % 256);
    items.push({
      id: `e${String(e).padStart(2, '0')}`,
      meta: { vehicle: VEHICLES[e % 4], driver: e % 3, ...(e % 5 === 0 ? { note: `n${e}` } : {}) },
      startTime: t + 1000.5 * (e + 1),
      steps: { state, action, reward, flags },
      terminated: e % 3 !== 0,
      ...(e % 2 === 0 ? { finalState: Float32Array.from({ length: 6 }, (_, i) => -e - i) } : {}),
    });
  }
  await pool.store(items);
  await pool.store([
    { id: 'r0', meta: { vehicle: 'v1', driver: 9 }, timestamp: 5.5, step: { state: [1, 2, 3, 4, 5, 6], action: 3, reward: 0.25, flags: [1, 2, 3, 4] } },
    { id: 'r1', meta: { vehicle: 'v2', driver: 1 }, timestamp: 6.5, step: { state: [6, 5, 4, 3, 2, 1], action: -3, reward: -0.5, flags: [4, 3, 2, 1] } },
  ]);
}, 600_000);

afterAll(async () => {
  await pool?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('exportParquet', () => {
  it('writes a Hive-partitioned dataset that pyarrow reads byte for byte as the pool holds it, and DuckDB counts', async () => {
    const dir = fresh('ds');
    // Small pages: several row groups per file, written as the pages stream by.
    const summary = await exportParquet(pool, dir, { partitionBy: ['vehicle', 'driver'], pageSize: 5 });
    const all = plain(await pool.find());
    const rows = all.reduce((s, it) => s + (it.kind === 'episode' ? it.seqLen : 1), 0);
    expect(summary).toMatchObject({ items: all.length, rows });
    const paths = files(dir).map((p) => relative(dir, p));
    expect(paths.length).toBe(summary.files);
    expect(summary.bytes).toBe(files(dir).reduce((s, p) => s + statSync(p).size, 0));
    // Escaped as Hive escapes: every file sits two partition levels below the dataset.
    for (const p of paths) expect(p).toMatch(/^vehicle=[^/]+\/driver=[^/]+\/part-\d{5}\.parquet$/);
    expect(paths).toContain('vehicle=..%2F..%2Fevil/driver=0/part-00000.parquet');
    expect(paths).toContain('vehicle=a%3Db%25c%2Fd/driver=1/part-00000.parquet');
    expect(readdirSync(root).filter((f) => f.includes('.expbuf-tmp-'))).toEqual([]);

    const got = await readDataset(dir);
    expect(got.rows).toBe(rows);
    expect(got.types).toMatchObject({
      id: 'string',
      kind: 'string',
      step: 'int32',
      time: 'double',
      note: 'string',
      state: 'fixed_size_list<item: float not null>[6]',
      action: 'int32',
      reward: 'double',
      flags: 'fixed_size_list<item: uint8 not null>[4]',
      terminated: 'bool',
      final_state: 'fixed_size_list<item: float not null>[6]',
    });
    // The pool's rows in the same order (id, step), column by column.
    const want = {
      id: [] as string[],
      kind: [] as string[],
      step: [] as number[],
      time: [] as number[],
      terminated: [] as (boolean | null)[],
      vehicle: [] as string[],
      driver: [] as number[],
      final_state: [] as (string | null)[],
    };
    for (const it of all) {
      const len = it.kind === 'episode' ? it.seqLen : 1;
      for (let s = 0; s < len; s++) {
        want.id.push(it.id);
        want.kind.push(it.kind);
        want.step.push(s);
        want.time.push(it.kind === 'episode' ? it.startTime : it.timestamp);
        want.terminated.push(it.kind === 'episode' ? it.terminated : null);
        want.vehicle.push(it.meta.vehicle as string);
        want.driver.push(it.meta.driver as number);
        want.final_state.push(it.kind === 'episode' && it.finalState !== undefined && s === len - 1 ? b64(it.finalState) : null);
      }
    }
    for (const [k, v] of Object.entries(want)) expect(got[k as keyof Read], k).toEqual(v);
    for (const f of FIELDS) {
      const parts = all.map((it) => (it.kind === 'episode' ? it.steps : it.step)[f.name as keyof S]);
      expect(got.fields[f.name], f.name).toBe(Buffer.concat(parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))).toString('base64'));
    }
    expect(got.final_states).toBe(all.filter((it) => it.kind === 'episode' && it.finalState !== undefined).length);
    // Every file carries the layout: shapes, meta types, partition keys; snappy.
    for (const f of got.files) {
      expect(f.codec).toBe('SNAPPY');
      expect(f.schema_metadata).toContain('expbuf');
      expect(f.expbuf.partitionBy).toEqual(['vehicle', 'driver']);
      expect(f.expbuf.fields).toEqual(FIELDS);
      expect(f.expbuf.meta).toEqual([
        { key: 'vehicle', type: 'string' },
        { key: 'driver', type: 'number' },
        { key: 'note', type: 'string' },
      ]);
    }
    expect(Math.max(...got.files.map((f) => f.row_groups))).toBeGreaterThan(1);

    const counts: Record<string, number> = {};
    for (const v of want.vehicle) counts[v] = (counts[v] ?? 0) + 1;
    // DuckDB undoes Hive's escapes too: the vehicles come back as the pool has them.
    expect(got.duckdb_counts).toEqual(counts);
    // pandas and Dask, called as their users call them, read the same rows.
    expect(got.pandas.rows).toBe(rows);
    expect(got.pandas.vehicle_counts).toEqual(counts);
    for (const f of FIELDS) expect(got.pandas.fields[f.name], `pandas ${f.name}`).toBe(got.fields[f.name]);
    expect(got.dask.rows).toBe(rows);
    expect(got.dask.vehicle_counts).toEqual(counts);
    const rewards = all.flatMap((it) => Array.from((it.kind === 'episode' ? it.steps : it.step).reward as ArrayLike<number>));
    expect(got.dask.reward_sum).toBeCloseTo(
      rewards.reduce((a, b) => a + b, 0),
      6,
    );
  });

  it('writes a page longer than a row group as row groups of at most 8,192 rows, read back whole', async () => {
    await using big = await openPool(fresh('big-pool'), { schema });
    const len = 20_000;
    const items = [
      {
        id: 'long',
        meta: { vehicle: 'v1', driver: 0 },
        startTime: 1,
        steps: {
          state: Float32Array.from({ length: len * 6 }, (_, i) => i / 7),
          action: Int32Array.from({ length: len }, (_, i) => i % 9),
          reward: Float64Array.from({ length: len }, (_, i) => i / 3),
          flags: Uint8Array.from({ length: len * 4 }, (_, i) => i % 251),
        },
        terminated: false,
        finalState: Float32Array.of(1, 2, 3, 4, 5, 6),
      },
      { id: 'one', meta: { vehicle: 'v2', driver: 1 }, timestamp: 2, step: { state: [1, 2, 3, 4, 5, 6], action: 1, reward: 1, flags: [1, 2, 3, 4] } },
    ];
    await big.store(items);
    const dir = fresh('big');
    const summary = await exportParquet(big, dir);
    expect(summary).toMatchObject({ files: 1, items: 2, rows: len + 1 });
    const got = await readDataset(dir);
    expect(got.files.map((f) => [f.rows, f.row_groups])).toEqual([[len + 1, Math.ceil((len + 1) / 8192)]]);
    const held = plain(await big.find());
    for (const f of FIELDS) {
      const parts = held.map((it) => (it.kind === 'episode' ? it.steps : it.step)[f.name as keyof S]);
      expect(got.fields[f.name], f.name).toBe(Buffer.concat(parts.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))).toString('base64'));
    }
    await using copy = await openPool(fresh('copy'), { schema });
    await importParquet(dir, copy);
    expect(plain(await copy.find())).toEqual(held);
  });

  it('round trips: import of an export stores the same items (ids, meta, times, steps, terminated, finalState)', async () => {
    const dir = fresh('rt');
    await exportParquet(pool, dir, { partitionBy: ['vehicle'] });
    await using copy = await openPool(fresh('copy'), { schema });
    const summary = await importParquet(dir, copy, { pageSize: 3 });
    const source = plain(await pool.find());
    expect(summary.items).toBe(source.length);
    expect(plain(await copy.find())).toEqual(source);
    // And without partitions, filtered by a query.
    const dir2 = fresh('rt-query');
    const q = { meta: { vehicle: 'v2' } };
    const s2 = await exportParquet(pool, dir2, { query: q });
    expect(files(dir2).map((p) => relative(dir2, p))).toEqual(['part-00000.parquet']);
    await using copy2 = await openPool(fresh('copy'), { schema });
    await importParquet(dir2, copy2);
    expect(plain(await copy2.find())).toEqual(plain(await pool.find(q)));
    expect(s2.items).toBe(await pool.count(q));
  });

  it('an export of nothing is a dataset of no rows', async () => {
    const dir = fresh('empty');
    const s = await exportParquet(pool, dir, { query: { meta: { vehicle: 'nobody' } }, partitionBy: ['vehicle'] });
    expect(s).toMatchObject({ files: 1, items: 0, rows: 0 });
    await using copy = await openPool(fresh('copy'), { schema });
    expect(await importParquet(dir, copy)).toMatchObject({ items: 0 });
  });

  it('refuses an existing target, a partition key an item lacks, unknown options; leaves nothing behind', async () => {
    const dir = fresh('exists');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep'), 'x');
    await expect(exportParquet(pool, dir)).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('already exists') });
    expect(readFileSync(join(dir, 'keep'), 'utf8')).toBe('x');

    const dir2 = fresh('lacks');
    await expect(exportParquet(pool, dir2, { partitionBy: ['note'] })).rejects.toMatchObject({
      code: 'EXPBUF_INVALID_ARGUMENT',
      message: expect.stringMatching(/item 'e01' has no meta key 'note'/),
    });
    expect(existsSync(dir2)).toBe(false);
    expect(readdirSync(root).filter((f) => f.includes('.expbuf-tmp-'))).toEqual([]);

    await expect(exportParquet(pool, fresh('x'), { partitonBy: ['vehicle'] } as never)).rejects.toMatchObject({
      code: 'EXPBUF_INVALID_ARGUMENT',
      message: expect.stringContaining("unknown option 'partitonBy'"),
    });
    await expect(exportParquet(pool, fresh('x'), { partitionBy: 'vehicle' } as never)).rejects.toMatchObject({
      code: 'EXPBUF_INVALID_ARGUMENT',
      message: expect.stringContaining('options.partitionBy'),
    });
    await expect(exportParquet(pool, fresh('x'), { partitionBy: ['reward'] })).rejects.toMatchObject({
      code: 'EXPBUF_SCHEMA_MISMATCH',
      message: expect.stringContaining("'reward'"),
    });
    await expect(importParquet(fresh('x'), pool, { pagesize: 3 } as never)).rejects.toMatchObject({
      code: 'EXPBUF_INVALID_ARGUMENT',
      message: expect.stringContaining("unknown option 'pagesize'"),
    });
    await expect(importParquet(fresh('missing'), pool)).rejects.toMatchObject({ code: 'EXPBUF_IO', cause: expect.objectContaining({ code: 'ENOENT' }) });
  });
});

describe('importParquet refuses bad datasets and stores nothing', () => {
  async function tampered(op: string | ((file: string) => void)): Promise<{ dir: string; file: string }> {
    const dir = fresh('bad');
    await exportParquet(pool, dir, { partitionBy: ['vehicle'] });
    const file = files(dir).at(-1) as string;
    if (typeof op === 'string') await py('tamper', file, op);
    else op(file);
    return { dir, file };
  }

  it.each([
    ['drop-reward', 'EXPBUF_SCHEMA_MISMATCH', "column 'reward' is missing"],
    ['add-extra', 'EXPBUF_SCHEMA_MISMATCH', "column 'extra' is not one of the dataset's columns"],
    ['reward-float32', 'EXPBUF_SCHEMA_MISMATCH', "column 'reward' is float32 in the dataset, float64 for the pool"],
  ])('%s: %s naming the column', async (op, code, message) => {
    const { dir, file } = await tampered(op);
    await using copy = await openPool(fresh('copy'), { schema });
    const e = await importParquet(dir, copy).catch((x: unknown) => x);
    expect(e).toMatchObject({ code, message: expect.stringContaining(message) });
    expect((e as Error).message).toContain(file);
    expect(await copy.count()).toBe(0);
  });

  it('a truncated file: EXPBUF_CORRUPT_STATE naming it', async () => {
    const { dir, file } = await tampered((f) => truncateSync(f, Math.floor(statSync(f).size / 2)));
    await using copy = await openPool(fresh('copy'), { schema });
    await expect(importParquet(dir, copy)).rejects.toMatchObject({ code: 'EXPBUF_CORRUPT_STATE', message: expect.stringContaining(file) });
    expect(await copy.count()).toBe(0);
  });

  it('a dataset for another shape: EXPBUF_SCHEMA_MISMATCH naming the column', async () => {
    const dir = fresh('shape');
    await exportParquet(pool, dir);
    await using other = await openPool(fresh('other'), { schema: { ...schema, state: { dtype: 'float32', shape: [6] } } });
    await expect(importParquet(dir, other)).rejects.toMatchObject({
      code: 'EXPBUF_SCHEMA_MISMATCH',
      message: expect.stringContaining("column 'state' is float32[2, 3] in the dataset, float32[6] in the pool"),
    });
  });

  it('a store that fails part-way (an id the pool holds) deletes what the call stored', async () => {
    const dir = fresh('clash');
    await exportParquet(pool, dir, { partitionBy: ['vehicle'] });
    // The item imported last, stored beforehand: the import fails on its last page.
    await using probe = await openPool(fresh('probe'), { schema });
    await importParquet(dir, probe);
    const order = await probe.find();
    const last = order[order.length - 1];
    await using target = await openPool(fresh('target'), { schema });
    const input =
      last.kind === 'episode'
        ? { id: last.id, meta: last.meta, startTime: last.startTime, steps: last.steps }
        : { id: last.id, meta: last.meta, timestamp: last.timestamp, step: last.step };
    await target.store([input]);
    await expect(importParquet(dir, target, { pageSize: 4 })).rejects.toMatchObject({
      code: 'EXPBUF_INVALID_ARGUMENT',
      message: expect.stringContaining(`'${last.id}' is already stored`),
    });
    expect((await target.find()).map((it) => it.id)).toEqual([last.id]);
  });
});
