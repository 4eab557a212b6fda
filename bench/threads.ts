/**
 * The cross-thread section (issues 3 and 11): 2^20 rows from 1, 2 and 4 collecting
 * workers into one consumer on the main thread, expbuf against workers posting
 * 256-row transferable batches that the main thread copies into the specialized JS
 * buffer; and collect → update() latency.
 */
import { Worker } from 'node:worker_threads';
import { DataUser, SequentialBuffer } from '../ts/index.js';
import { OBS, rowsOf, SpecializedBuffer, type Rows } from './specialized.js';
import type { Method, ThreadBenchTask } from './thread-worker.js';
import { fmt, median, table, verdict } from './stats.js';

const schema = { obs: { dtype: 'float32', shape: [OBS] }, action: 'int32', reward: 'float32' } as const;
const timedSchema = { ...schema, t: 'float64' } as const;
const WORKER = new URL('./thread-worker.js', import.meta.url);
const idle = new Int32Array(new SharedArrayBuffer(4));

/** Rows sent per run, split over the workers (a whole number of 256-row batches each). */
const TOTAL = 1 << 20;
const RING = 1 << 17;

/**
 * A consumer's ring of 131,072 rows, filled once: a learner's ring is warm after its
 * first lap, and first-touch page faults are not what this section measures.
 */
function warmBuffer(): SequentialBuffer<typeof schema> {
  const b = new SequentialBuffer(schema, RING);
  b.addBatch({ obs: new Float32Array(RING * OBS), action: new Int32Array(RING), reward: new Float32Array(RING) });
  return b;
}

function warmSpecialized(): SpecializedBuffer {
  const b = new SpecializedBuffer(RING);
  b.addRows(rowsOf(RING), 0, RING);
  return b;
}

/** Wall ms until this thread holds all `TOTAL` rows sent by `workers` workers by `method`. */
async function wallMs(method: Method, workers: number): Promise<number> {
  const flags = new Int32Array(new SharedArrayBuffer(4));
  const expbuf = method === 'collect' || method === 'collectBatch';
  const user = expbuf ? new DataUser(warmBuffer(), { maxQueueSize: Infinity }) : undefined;
  const js = expbuf ? undefined : warmSpecialized();
  let received = 0;
  const ws = Array.from(
    { length: workers },
    () => new Worker(WORKER, { workerData: { method, rows: TOTAL / workers, flags, handle: user?.collector.handle() } satisfies ThreadBenchTask }),
  );
  await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
  const allReceived = new Promise<void>((resolve) => {
    if (js === undefined) return resolve();
    for (const w of ws) {
      w.on('message', (m: Rows | string) => {
        if (typeof m === 'string') return;
        js.addRows(m, 0, m.action.length);
        received += m.action.length;
        if (received >= TOTAL) resolve();
      });
    }
  });
  const t0 = performance.now();
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  if (user) {
    // Count only rows update() has moved into the buffer on this thread.
    while (received < TOTAL) {
      const moved = user.update();
      received += moved;
      if (moved === 0) Atomics.wait(idle, 0, 0, 0.05);
    }
  } else {
    await allReceived;
  }
  const ms = performance.now() - t0;
  await Promise.all(ws.map((w) => w.terminate()));
  user?.close();
  user?.buffer.close();
  return ms;
}

/** Collect → visible-after-update() latency in µs, one worker handing over each row at once. */
async function latency(rows: number): Promise<{ p50: number; p99: number }> {
  const flags = new Int32Array(new SharedArrayBuffer(4));
  const buffer = new SequentialBuffer(timedSchema, 4096);
  const user = new DataUser(buffer, { maxQueueSize: Infinity });
  const w = new Worker(WORKER, { workerData: { method: 'latency', rows, flags, handle: user.collector.handle() } satisfies ThreadBenchTask });
  await new Promise((r) => w.once('message', r));
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  const lat: number[] = [];
  const origin = performance.timeOrigin;
  while (lat.length < rows) {
    const moved = user.update();
    if (moved === 0) continue;
    const seen = origin + performance.now();
    const t = buffer.getData().t;
    for (let k = t.length - moved; k < t.length; k++) lat.push((seen - t[k]) * 1000);
  }
  await w.terminate();
  user.close();
  buffer.close();
  lat.sort((a, b) => a - b);
  return { p50: median(lat), p99: lat[Math.floor(lat.length * 0.99)] };
}

/** ns per read of each clock a collect could stamp rows with. */
function clockCosts(): [string, number][] {
  const clocks: [string, () => number][] = [
    ['Date.now()', () => Date.now()],
    ['performance.now()', () => performance.now()],
    ['process.hrtime()', () => process.hrtime()[1]],
  ];
  return clocks.map(([name, read]) => {
    const n = 2_000_000;
    let sink = 0;
    for (let i = 0; i < 100_000; i++) sink += read();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink += read();
    const ns = Number(process.hrtime.bigint() - t0) / n;
    if (sink === -1) console.log(sink);
    return [name, ns];
  });
}

export async function runThreadBench(): Promise<void> {
  const methods: [Method, string][] = [
    ['jsBatches', 'JS: 256-row transferable batches (no per-row work in the worker) → copied into the specialized JS buffer'],
    ['jsStaged', "JS: the specialized JS's per-step collect into 256-row transferable batches → copied likewise"],
    ['collect', 'expbuf: per-step collect'],
    ['collectBatch', 'expbuf: collectBatch(256)'],
  ];
  const ms: Record<string, number[]> = {};
  for (const [m] of methods) {
    ms[m] = [];
    for (const workers of [1, 2, 4]) {
      const runs = [];
      for (let k = 0; k < 5; k++) runs.push(await wallMs(m, workers));
      ms[m].push(median(runs));
    }
  }
  const rate = (m: string, i: number) => TOTAL / (ms[m][i] / 1000);
  table(
    `Cross-thread: ${fmt(TOTAL)} rows of { obs: float32[64], action, reward } from N workers into the main thread, wall ms (rows/s); into a warm ring of 131,072 rows (median of 5)`,
    ['method', '1 worker', '2 workers', '4 workers', '1 worker ÷ JS batches'],
    methods.map(([m, name]) => [
      name,
      ...ms[m].map((x, i) => `${fmt(x, 1)} (${fmt(rate(m, i) / 1e6, 1)}M/s)`),
      `${fmt(rate(m, 0) / rate('jsBatches', 0), 2)}×`,
    ]),
  );
  const lat = await latency(20_480);
  console.log(`\ncollect → visible after update(), one worker handing over each row at once: median ${fmt(lat.p50, 1)} µs, p99 ${fmt(lat.p99, 1)} µs`);
  // Every collected row is stamped with its collect time: the clock is part of the per-step cost.
  console.log(
    `clock read (per row collected; expbuf stamps with performance.now(), the specialized JS with Date.now()): ${clockCosts()
      .map(([n, ns]) => `${n} ${fmt(ns, 1)} ns`)
      .join(', ')}`,
  );
  const vs = (m: string, base: string) => rate(m, 0) / rate(base, 0);
  console.log(
    '\nTargets (issue 11, cross-thread; "JS batches" is the first row, the one that does the least per row):\n' +
      `- 1 worker per-step collect ≥ 1.0× the rows/s of JS batches: ${verdict(vs('collect', 'jsBatches') >= 1)} (${fmt(vs('collect', 'jsBatches'), 2)}×; ${fmt(vs('collect', 'jsStaged'), 2)}× the JS per-step collect's batches)\n` +
      `- 1 worker collectBatch(256) ≥ 5× that: ${verdict(vs('collectBatch', 'jsBatches') >= 5)} (${fmt(vs('collectBatch', 'jsBatches'), 2)}×)\n` +
      `- 4 workers: more rows/s than 1 worker: per-step collect ${verdict(rate('collect', 2) > rate('collect', 0))} (${fmt(rate('collect', 2) / rate('collect', 0), 2)}×), collectBatch ${verdict(rate('collectBatch', 2) > rate('collectBatch', 0))} (${fmt(rate('collectBatch', 2) / rate('collectBatch', 0), 2)}×)`,
  );
}
