/**
 * Pattern: 3 producer processes store experience into one PostgreSQL pool; 1 learner
 * (this process) follows the pool with a DataUser, pulling what they stored into its
 * native buffer and sampling training batches, until all rows arrived.
 *
 * Uses EXPBUF_PG_URL when set; otherwise starts a throwaway server on loopback (as
 * the tests do). Run: npm run build:ts && node dist/examples/pool-follow.js
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataUser, openPool, SequentialBuffer } from '../ts/index.js';

const schema = { producer: 'uint8', obs: { dtype: 'float32', shape: [8] }, reward: 'float32' } as const;
const PRODUCERS = 3;
const ROWS = 50_000;
const BATCH = 500;

const [role, url, id] = process.argv.slice(2);
if (role === 'producer') {
  // A producer: its own process (in practice: another machine), storing records.
  const p = Number(id);
  await using pool = await openPool(url, { schema });
  for (let s = 0; s < ROWS; s += BATCH) {
    await pool.store(
      Array.from({ length: BATCH }, (_, i) => ({
        id: `p${p}-${s + i}`,
        meta: { producer: p },
        step: { producer: p, obs: new Float32Array(8).fill(Math.sin(s + i)), reward: (s + i) % 7 },
      })),
    );
  }
} else {
  let pgUrl = process.env.EXPBUF_PG_URL;
  let stop = () => {};
  if (!pgUrl) {
    const helper = new URL('../../scripts/pg-server.mjs', import.meta.url).href;
    const { startServer, stopServer } = (await import(helper)) as typeof import('../scripts/pg-server.mjs');
    const dir = mkdtempSync(join(tmpdir(), 'expbuf-example-pg-'));
    pgUrl = await startServer(dir);
    stop = () => stopServer(dir);
    console.log(`started a throwaway PostgreSQL server: ${pgUrl}`);
  }
  const poolUrl = `${pgUrl}?pool=example_${process.pid}`;
  try {
    await using pool = await openPool(poolUrl, { schema });
    const self = fileURLToPath(import.meta.url);
    const producers = Array.from({ length: PRODUCERS }, (_, p) => spawn(process.execPath, [self, 'producer', poolUrl, String(p)], { stdio: 'inherit' }));
    const finished = Promise.all(producers.map((c) => new Promise((resolve) => c.on('exit', resolve))));
    let done = false;
    void finished.then(() => (done = true));

    const buffer = new SequentialBuffer(schema, PRODUCERS * ROWS);
    const learner = new DataUser(buffer);
    learner.follow(pool, { pageSize: 1000 });
    const started = performance.now();
    let batches = 0;
    for (;;) {
      const pulled = await learner.pull();
      if (buffer.size >= 256) {
        const b = buffer.sample(256);
        batches++;
        if (batches % 20 === 0) {
          const mean = b.reward.reduce((a, r) => a + r, 0) / 256;
          console.log(`learner: ${buffer.size} rows (cursor ${learner.cursor}), ${batches} batches, batch mean reward ${mean.toFixed(2)}`);
        }
      }
      if (done && pulled === 0 && (await pool.count()) === buffer.size) break;
      if (pulled === 0) await new Promise((r) => setTimeout(r, 20));
    }
    const perProducer = new Array<number>(PRODUCERS).fill(0);
    for (const p of buffer.getData().producer) perProducer[p]++;
    const secs = (performance.now() - started) / 1000;
    console.log(
      `done: ${buffer.size} rows from ${PRODUCERS} producers (${perProducer.join(', ')}) in ${secs.toFixed(1)} s; ${batches} training batches sampled`,
    );
    learner.close();
    buffer.close();
  } finally {
    stop();
  }
}
