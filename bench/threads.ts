/**
 * Issue 3's section: rows/s from 1, 2 and 4 collecting workers into one consumer on the
 * main thread, expbuf against the JS ways (postMessage per step, postMessage of
 * 256-row transferable batches); and collect → update() latency.
 */
import { Worker } from 'node:worker_threads';
import { DataUser, SequentialBuffer } from '../ts/index.js';
import type { Method, ThreadBenchTask } from './thread-worker.js';
import { fmt, median, table } from './stats.js';

const schema = { obs: { dtype: 'float32', shape: [64] }, action: 'int32', reward: 'float32', t: 'float64' } as const;
const WORKER = new URL('./thread-worker.js', import.meta.url);
const idle = new Int32Array(new SharedArrayBuffer(4));

const RING = 1 << 17;

/**
 * A SequentialBuffer of 131,072 rows, filled once: a learner's ring is warm after its
 * first lap, and first-touch page faults are not what this section measures.
 */
function warmBuffer(): SequentialBuffer<typeof schema> {
  const b = new SequentialBuffer(schema, RING);
  b.addBatch({ obs: new Float32Array(RING * 64), action: new Int32Array(RING), reward: new Float32Array(RING), t: new Float64Array(RING) });
  return b;
}

/** Rows/s from `workers` workers sending `rowsEach` rows each by `method`, received on this thread. */
async function throughput(method: Method, workers: number, rowsEach: number): Promise<number> {
  const flags = new Int32Array(new SharedArrayBuffer(4));
  const total = workers * rowsEach;
  const expbuf = method === 'collect' || method === 'collectBatch';
  const user = expbuf ? new DataUser(warmBuffer(), { maxQueueSize: Infinity }) : undefined;
  let received = 0;
  const ws = Array.from({ length: workers }, () => new Worker(WORKER, { workerData: { method, rows: rowsEach, flags, handle: user?.collector.handle() } satisfies ThreadBenchTask }));
  await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
  const allReceived = new Promise<void>((resolve) => {
    if (expbuf) return resolve();
    for (const w of ws) {
      w.on('message', (m: { action?: Int32Array | number } | string) => {
        if (typeof m === 'string') return;
        received += m.action instanceof Int32Array ? m.action.length : 1;
        if (received >= total) resolve();
      });
    }
  });
  const t0 = performance.now();
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  if (user) {
    // Count only rows update() has moved into the buffer on this thread.
    while (received < total) {
      const moved = user.update();
      received += moved;
      if (moved === 0) Atomics.wait(idle, 0, 0, 0.05);
    }
  } else {
    await allReceived;
  }
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(ws.map((w) => w.terminate()));
  user?.close();
  (user?.buffer as SequentialBuffer<typeof schema> | undefined)?.close();
  return total / secs;
}

/** Collect → visible-after-update() latency in µs, one worker handing over each row at once. */
async function latency(rows: number): Promise<{ p50: number; p99: number }> {
  const flags = new Int32Array(new SharedArrayBuffer(4));
  const buffer = new SequentialBuffer(schema, 4096);
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
  const methods: [Method, string, number][] = [
    ['collect', 'expbuf collect (per step)', 1_000_000],
    ['collectBatch', 'expbuf collectBatch (256 rows)', 2_000_000],
    ['postMessage', 'postMessage per step', 200_000],
    ['postMessageBatch', 'postMessage of 256-row transferable batches', 2_000_000],
  ];
  const rows: (string | number)[][] = [];
  const one: Record<string, number> = {};
  for (const [m, name, n] of methods) {
    const r: (string | number)[] = [name];
    for (const workers of [1, 2, 4]) {
      const runs = [];
      for (let k = 0; k < 3; k++) runs.push(await throughput(m, workers, Math.floor(n / workers)));
      const rate = median(runs);
      if (workers === 1) one[m] = rate;
      r.push(fmt(rate));
    }
    rows.push(r);
  }
  table('Cross-thread: rows/s received on the main thread from N collecting workers (steps of { obs: float32[64], action, reward, t }; expbuf: rows update() moved into a warm SequentialBuffer of 131,072 rows; median of 3)', ['method', '1 worker', '2 workers', '4 workers'], rows);
  const lat = await latency(20_000);
  console.log(`\ncollect → visible after update(), one worker handing over each row at once: median ${fmt(lat.p50, 1)} µs, p99 ${fmt(lat.p99, 1)} µs`);
  // Every collected row is stamped with its collect time: the clock is part of the per-step cost.
  console.log(`clock read (per row collected): ${clockCosts().map(([n, ns]) => `${n} ${fmt(ns, 1)} ns`).join(', ')}`);
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(
    '\nTargets (issue 3, 1 worker):\n' +
      `- per-step collect ≥ 5× per-step postMessage: ${verdict(one.collect >= 5 * one.postMessage)} (${fmt(one.collect / one.postMessage, 1)}×)\n` +
      `- per-step collect ≥ ½ batched postMessage: ${verdict(one.collect >= one.postMessageBatch / 2)} (${fmt(one.collect / one.postMessageBatch, 2)}×)\n` +
      `- collectBatch(256) ≥ batched postMessage: ${verdict(one.collectBatch >= one.postMessageBatch)} (${fmt(one.collectBatch / one.postMessageBatch, 2)}×)`,
  );
}
