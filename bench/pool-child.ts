/**
 * Issue 5's section, in its own process, for one backend (argv: embedded | a postgres
 * or mongodb URL): ingest rows/s of 1,000,000 rows of { state: float32[64], action: int32,
 * reward: float32 } in batched stores (10 episodes of 1,000 steps a call), then
 * ReplayBuffer.load rows/s of all of them, and sample() µs per batch of 256. Prints JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPool, ReplayBuffer } from '../ts/index.js';
import { median } from './stats.js';

const ROWS = 1_000_000;
const EPISODE = 1000;
const PER_CALL = 10;
const schema = { state: { dtype: 'float32', shape: [64] }, action: 'int32', reward: 'float32' } as const;
const target = process.argv[2] ?? 'embedded';
const dir = mkdtempSync(join(tmpdir(), 'expbuf-bench-pool-'));
const url = target === 'embedded' ? join(dir, 'pool') : `${target}?pool=bench_${process.pid}`;

const state = Float32Array.from({ length: EPISODE * 64 }, (_, i) => i % 101);
const action = Int32Array.from({ length: EPISODE }, (_, i) => i % 2);
const reward = new Float32Array(EPISODE).fill(1);

const pool = await openPool(url, { schema });
let t = performance.now();
for (let e = 0; e < ROWS / EPISODE; e += PER_CALL) {
  await pool.store(Array.from({ length: PER_CALL }, (_, j) => ({ id: `e${e + j}`, meta: { e: e + j }, steps: { state, action, reward } })));
}
const ingest = ROWS / ((performance.now() - t) / 1000);

const rb = new ReplayBuffer({ pool, batchSize: 256, maxSize: ROWS, seed: 1 });
t = performance.now();
const loaded = await rb.load(undefined, { pageSize: 50 });
const load = loaded / ((performance.now() - t) / 1000);
for (let i = 0; i < 500; i++) rb.sample();
const times: number[] = [];
for (let r = 0; r < 15; r++) {
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) rb.sample();
  times.push(((performance.now() - t0) * 1000) / 100);
}
if (target.startsWith('postgres')) {
  // Leave the server as it was: drop this run's tables.
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: target });
  await c.connect();
  await c.query(`DROP TABLE IF EXISTS "bench_${process.pid}_items", "bench_${process.pid}_meta"`);
  await c.end();
} else if (target.startsWith('mongodb')) {
  // The same for MongoDB: drop this run's collections.
  const { MongoClient } = await import('mongodb');
  const c = new MongoClient(target);
  const db = c.db();
  for (const name of [`bench_${process.pid}_items`, `bench_${process.pid}_meta`])
    await db
      .collection(name)
      .drop()
      .catch(() => undefined);
  await c.close();
}
await rb.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ ingest, load, loaded, sampleUs: median(times) }));
