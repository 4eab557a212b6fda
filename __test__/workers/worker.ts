/**
 * The worker side of the cross-thread tests, driven by one message per task.
 * Compiled by `tsc` into dist/ (tests load the compiled file).
 */
import { parentPort } from 'node:worker_threads';
import { DataCollector, SequentialBuffer, type BufferHandle, type CollectorHandle, type StepOf } from '../../ts/index.js';

const summed = { a: { dtype: 'float64', shape: [4] }, sum: 'float64' } as const;
const counted = { n: 'uint32' } as const;

export type Task =
  /** Collect rows { w, seq } for seq = 0..rows-1, one `collect` each, then close. */
  | { task: 'collect'; handle: CollectorHandle<Row>; w: number; rows: number; batch?: number }
  /** Collect { w, seq } forever, yielding to the event loop every `yieldEvery` rows. */
  | { task: 'collectForever'; handle: CollectorHandle<Row>; w: number; yieldEvery: number }
  /** Sample from a shared buffer until `stop` (an Int32Array over shared memory) is set; check every row's sum. */
  | { task: 'sample'; handle: BufferHandle<SequentialBuffer<typeof summed>>; stop: Int32Array; batch: number }
  /**
   * Collect { w, seq } at full speed until `stop` is set, handing each 256 rows to the
   * queue (`flush()`) and timing every hand-over; returns their count and the longest.
   */
  | { task: 'collectTimed'; handle: CollectorHandle<Row>; w: number; stop: Int32Array }
  /**
   * Read a shared buffer's `size` (a counter in shared memory) around a native read of
   * its rows until `flags[0]` is set, counting each round in `flags[1]`; report reads
   * that disagree with the rows or go back, and the last size.
   */
  | { task: 'watchSize'; handle: BufferHandle<SequentialBuffer<typeof counted>>; flags: Int32Array }
  /** Attach to a collector, collect `rows` rows, close: the registry-lifetime cycle. */
  | { task: 'cycle'; handle: CollectorHandle<Row>; rows: number };

/** The rows the collecting tasks write (threads.test.ts declares `{ w: 'uint8', seq: 'uint32' }`). */
type Row = StepOf<{ readonly w: 'uint8'; readonly seq: 'uint32' }>;

if (parentPort === null) throw new Error('worker.ts runs as a worker');
const port = parentPort;

port.on('message', (t: Task) => {
  void run(t).then(
    (result) => port.postMessage({ ok: true, ...result }),
    (e: unknown) => port.postMessage({ ok: false, error: String((e as Error).stack ?? e) }),
  );
});

async function run(t: Task): Promise<Record<string, number>> {
  switch (t.task) {
    case 'collect': {
      const c = DataCollector.fromHandle(t.handle);
      const batch = t.batch ?? 0;
      for (let seq = 0; seq < t.rows; ) {
        if (batch > 0) {
          const n = Math.min(batch, t.rows - seq);
          c.collectBatch({ w: new Uint8Array(n).fill(t.w), seq: Uint32Array.from({ length: n }, (_, i) => seq + i) });
          seq += n;
        } else {
          c.collect({ w: t.w, seq });
          seq++;
        }
        if (seq % 4096 === 0) await new Promise((r) => setImmediate(r));
      }
      c.close();
      return { rows: t.rows };
    }
    case 'collectForever': {
      const c = DataCollector.fromHandle(t.handle);
      port.postMessage({ started: true });
      for (let seq = 0; ; seq++) {
        c.collect({ w: t.w, seq });
        if (seq % t.yieldEvery === 0) await new Promise((r) => setImmediate(r));
      }
    }
    case 'sample': {
      const b = SequentialBuffer.fromHandle(t.handle);
      let batches = 0;
      let rows = 0;
      let torn = 0;
      while (Atomics.load(t.stop, 0) === 0) {
        if (b.size === 0) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        const s = b.sample(t.batch);
        for (let k = 0; k < t.batch; k++) {
          const a = s.a.subarray(k * 4, k * 4 + 4);
          if (a[0] + a[1] + a[2] + a[3] !== s.sum[k]) torn++;
        }
        batches++;
        rows += t.batch;
      }
      b.close();
      return { batches, rows, torn };
    }
    case 'collectTimed': {
      const c = DataCollector.fromHandle(t.handle);
      port.postMessage({ started: true });
      let flushes = 0;
      let longestMs = 0;
      for (let seq = 0; Atomics.load(t.stop, 0) === 0; seq++) {
        c.collect({ w: t.w, seq });
        if (seq % 256 === 255) {
          const t0 = performance.now();
          c.flush();
          longestMs = Math.max(longestMs, performance.now() - t0);
          flushes++;
        }
      }
      c.close();
      return { flushes, longestMs };
    }
    case 'watchSize': {
      const b = SequentialBuffer.fromHandle(t.handle);
      port.postMessage({ started: true });
      let last = 0;
      let wrong = 0;
      let changes = 0;
      while (Atomics.load(t.flags, 0) === 0) {
        // The main thread only adds (and never fills the buffer): each read is at least
        // the one before, and the rows a native read holds lie between the two reads
        // around it.
        const before = b.size;
        const held = b.getData().n.length;
        const after = b.size;
        if (!(last <= before && before <= held && held <= after)) wrong++;
        if (after !== last) changes++;
        last = after;
        Atomics.add(t.flags, 1, 1);
        Atomics.notify(t.flags, 1);
      }
      const size = b.size;
      b.close();
      return { wrong, changes, size };
    }
    case 'cycle': {
      const c = DataCollector.fromHandle(t.handle);
      for (let seq = 0; seq < t.rows; seq++) c.collect({ w: 1, seq });
      c.close();
      return { rows: t.rows };
    }
  }
}
