import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { DataCollector, DataUser, registrySize, SequentialBuffer } from '../ts/index.js';
import type { Task } from './workers/worker.js';

// Workers run the tsc output (npm test compiles first): worker threads here cannot load TS.
const WORKER = new URL('../dist/__test__/workers/worker.js', import.meta.url);

const rowSchema = { w: 'uint8', seq: 'uint32' } as const;

function spawn(): Worker {
  return new Worker(WORKER);
}

/** Runs one task on `w` and resolves with its result (rejects on a worker error). */
function task(w: Worker, t: Task): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { ok?: boolean; error?: string; started?: boolean } & Record<string, number>) => {
      if (m.started) return;
      w.off('message', onMessage);
      w.off('error', reject);
      if (m.ok) resolve(m);
      else reject(new Error(m.error));
    };
    w.on('message', onMessage);
    w.on('error', reject);
    w.postMessage(t);
  });
}

/** Each worker's received seqs, in arrival order. */
function byWorker(data: { w: Uint8Array; seq: Uint32Array }): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (let i = 0; i < data.w.length; i++) {
    const list = m.get(data.w[i]) ?? [];
    list.push(data.seq[i]);
    m.set(data.w[i], list);
  }
  return m;
}

const workers: Worker[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
});

describe('collectors in worker threads', () => {
  it('4 workers × 250,000 rows into one user, unbounded queue: every row once, each worker in order', async () => {
    const user = new DataUser(new SequentialBuffer(rowSchema, 1_000_000), { maxQueueSize: Infinity });
    const ws = [0, 1, 2, 3].map(() => spawn());
    workers.push(...ws);
    const handle = user.collector.handle();
    let done = false;
    const updating = (async () => {
      while (!done) {
        user.update();
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await Promise.all(ws.map((w, i) => task(w, { task: 'collect', handle, w: i, rows: 250_000, batch: i === 3 ? 1000 : 0 })));
    done = true;
    await updating;
    user.update();
    expect(user.size).toBe(1_000_000);
    const seen = byWorker(user.buffer.getData() as { w: Uint8Array; seq: Uint32Array });
    for (let i = 0; i < 4; i++) {
      const seqs = seen.get(i) ?? [];
      expect(seqs.length).toBe(250_000);
      // In order and each exactly once: seqs[k] === k for all k.
      expect(seqs.every((s, k) => s === k)).toBe(true);
    }
    expect(user.collector.droppedCount).toBe(0);
    user.close();
    (user.buffer as SequentialBuffer<typeof rowSchema>).close();
  });

  it('a small bounded queue: received + dropped = produced, and survivors are each worker’s newest rows in order', async () => {
    const user = new DataUser(new SequentialBuffer(rowSchema, 1_000_000), { maxQueueSize: 1000 });
    const ws = [0, 1, 2, 3].map(() => spawn());
    workers.push(...ws);
    const handle = user.collector.handle();
    await Promise.all(ws.map((w, i) => task(w, { task: 'collect', handle, w: i, rows: 50_000 })));
    user.update();
    expect(user.size + user.collector.droppedCount).toBe(200_000);
    expect(user.size).toBe(1000);
    for (const [, seqs] of byWorker(user.buffer.getData() as { w: Uint8Array; seq: Uint32Array })) {
      // Without updates in between, what survives of a worker is its newest rows: a run ending at 49,999.
      expect(seqs.every((s, k) => s === 50_000 - seqs.length + k)).toBe(true);
    }

    // With updates while they collect, each worker's rows still arrive in increasing order.
    const user2 = new DataUser(new SequentialBuffer(rowSchema, 1_000_000), { maxQueueSize: 500 });
    const h2 = user2.collector.handle();
    let done = false;
    const updating = (async () => {
      while (!done) {
        user2.update();
        await new Promise((r) => setImmediate(r));
      }
    })();
    await Promise.all(ws.map((w, i) => task(w, { task: 'collect', handle: h2, w: i, rows: 50_000 })));
    done = true;
    await updating;
    user2.update();
    expect(user2.size + user2.collector.droppedCount).toBe(200_000);
    for (const [, seqs] of byWorker(user2.buffer.getData() as { w: Uint8Array; seq: Uint32Array })) {
      expect(seqs.every((s, k) => k === 0 || s > seqs[k - 1])).toBe(true);
    }
    for (const u of [user, user2]) {
      u.close();
      (u.buffer as SequentialBuffer<typeof rowSchema>).close();
    }
  });

  it('a worker terminated mid-collect, 50 times: no crash, queue usable, its handed-over rows stay', async () => {
    const user = new DataUser(new SequentialBuffer(rowSchema, 10_000_000), { maxQueueSize: Infinity });
    const handle = user.collector.handle();
    for (let round = 0; round < 50; round++) {
      const w = spawn();
      const started = new Promise<void>((resolve) => w.on('message', (m: { started?: boolean }) => m.started && resolve()));
      w.postMessage({ task: 'collectForever', handle, w: round, yieldEvery: 1 + (round % 7) * 300 } satisfies Task);
      await started;
      await new Promise((r) => setTimeout(r, 2 + (round % 5) * 4));
      await w.terminate();
      const before = user.size;
      user.update();
      const seqs = byWorker(user.buffer.getData() as { w: Uint8Array; seq: Uint32Array }).get(round) ?? [];
      // What the worker handed over before it died: a prefix of its sequence, whole.
      expect(seqs.every((s, k) => s === k)).toBe(true);
      expect(user.size).toBe(before + seqs.length);
    }
    // Still usable from this thread.
    const size = user.size;
    user.collector.collect({ w: 200, seq: 7 });
    user.update();
    expect(user.size).toBe(size + 1);
    user.close();
    (user.buffer as SequentialBuffer<typeof rowSchema>).close();
  });

  it('200 create/share/collect/close cycles: the registry ends empty and memory stops growing', async () => {
    const w = spawn();
    workers.push(w);
    // Objects of earlier tests that are garbage: let their finalizers run first.
    globalThis.gc?.();
    await new Promise((r) => setImmediate(r));
    const base = registrySize();
    // Every earlier test closed what it made, and terminated workers released theirs.
    expect(base).toBe(0);
    const rss: number[] = [];
    for (let cycle = 0; cycle < 200; cycle++) {
      const buffer = new SequentialBuffer({ seq: 'uint32', w: 'uint8', pad: { dtype: 'float32', shape: [256] } }, 20_000);
      const user = new DataUser(buffer);
      // Share a collector of a schema the worker knows.
      const rowUser = new DataUser(new SequentialBuffer(rowSchema, 5000));
      await task(w, { task: 'cycle', handle: rowUser.collector.handle(), rows: 2000 });
      rowUser.update();
      expect(rowUser.size).toBe(2000);
      buffer.addBatch({ seq: new Uint32Array(10_000), w: new Uint8Array(10_000), pad: new Float32Array(10_000 * 256) });
      user.close();
      buffer.close();
      rowUser.close();
      (rowUser.buffer as SequentialBuffer<typeof rowSchema>).close();
      expect(registrySize()).toBe(base);
      if (cycle % 20 === 19) {
        globalThis.gc?.();
        rss.push(process.memoryUsage().rss);
      }
    }
    // Each cycle allocated ~10 MB natively; after the first rounds resident memory is flat.
    const growth = rss[rss.length - 1] - rss[1];
    expect(growth).toBeLessThan(64 * 1024 * 1024);
    expect(() => DataCollector.fromHandle({ kind: 'expbuf.collector', id: 1e9 })).toThrow(expect.objectContaining({ code: 'EXPBUF_CLOSED' }));
  });

  it('a second thread reads size from shared memory while this one adds: never going back, never disagreeing with a native read, the final count', async () => {
    const buffer = new SequentialBuffer({ n: 'uint32' }, 1_000_000);
    const user = new DataUser(buffer, { maxQueueSize: Infinity });
    const flags = new Int32Array(new SharedArrayBuffer(8));
    const w = spawn();
    workers.push(w);
    const started = new Promise<void>((resolve) => w.on('message', (m: { started?: boolean }) => m.started && resolve()));
    const result = task(w, { task: 'watchSize', handle: buffer.handle(), flags });
    await started;
    let n = 0;
    for (let round = 0; round < 100; round++) {
      // Every way rows arrive: add (staged, published by the size read below), addBatch, and a user's update.
      for (let i = 0; i < 40; i++) buffer.add({ n: n++ });
      expect(buffer.size).toBe(n);
      buffer.addBatch({ n: Uint32Array.from({ length: 60 }, (_, i) => n + i) });
      n += 60;
      for (let i = 0; i < 30; i++) user.collector.collect({ n: n++ });
      user.update();
      expect(buffer.size).toBe(n);
      // Let the reader see this round before the next one (within a second).
      const seen = Atomics.load(flags, 1);
      Atomics.wait(flags, 1, seen, 1000);
    }
    Atomics.store(flags, 0, 1);
    const r = await result;
    expect(r.wrong).toBe(0);
    expect(r.size).toBe(n);
    expect(r.changes).toBeGreaterThan(10);
    user.close();
    buffer.close();
  });

  it('two threads sample while update() runs: every sampled row is a whole collected row', async () => {
    const schema = { a: { dtype: 'float64', shape: [4] }, sum: 'float64' } as const;
    const buffer = new SequentialBuffer(schema, 5000);
    const user = new DataUser(buffer, { maxQueueSize: Infinity });
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const samplers = [spawn(), spawn()];
    workers.push(...samplers);
    const results = samplers.map((w) => task(w, { task: 'sample', handle: buffer.handle(), stop, batch: 64 }));
    let x = 1;
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) {
      for (let i = 0; i < 500; i++) {
        const a = new Float64Array([x * 0.5, x * 1.25, -x, x / 3]);
        user.collector.collect({ a, sum: a[0] + a[1] + a[2] + a[3] });
        x++;
      }
      user.update();
      await new Promise((r) => setImmediate(r));
    }
    Atomics.store(stop, 0, 1);
    const out = await Promise.all(results);
    for (const r of out) {
      expect(r.batches).toBeGreaterThan(10);
      expect(r.torn).toBe(0);
    }
    user.close();
    buffer.close();
  });

  it('a worker collecting at full speed while a 256 MB buffer saves: no hand-over to the queue waits for the save', async () => {
    // 54M rows of 5 bytes: 270 MB of columns, written by a save that takes about a second.
    const rows = 54_000_000;
    const buffer = new SequentialBuffer(rowSchema, rows);
    const chunk = 1_000_000;
    const w = new Uint8Array(chunk).fill(9);
    const seq = Uint32Array.from({ length: chunk }, (_, i) => i);
    for (let at = 0; at < rows; at += chunk) buffer.addBatch({ w, seq });
    const user = new DataUser(buffer, { maxQueueSize: 1_000_000 });
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const worker = spawn();
    workers.push(worker);
    const started = new Promise((r) => worker.once('message', r));
    const result = task(worker, { task: 'collectTimed', handle: user.collector.handle(), w: 1, stop });
    await started;
    const dir = mkdtempSync(join(tmpdir(), 'expbuf-save-latency-'));
    try {
      const t0 = performance.now();
      const saving = buffer.saveState(dir);
      // update() during the save waits for the buffer (and blocks this thread); the
      // worker's hand-overs must not wait with it.
      await new Promise((r) => setTimeout(r, 50));
      user.update();
      const saveMs = performance.now() - t0;
      await saving;
      Atomics.store(stop, 0, 1);
      const out = await result;
      expect(saveMs).toBeGreaterThan(100);
      expect(out.flushes).toBeGreaterThan(100);
      console.log(`save + update ${saveMs.toFixed(0)} ms; ${out.flushes} hand-overs, the longest ${out.longestMs.toFixed(2)} ms`);
      expect(out.longestMs).toBeLessThan(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      user.close();
      buffer.close();
    }
  }, 120_000);
});
