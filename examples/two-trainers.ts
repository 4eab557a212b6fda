/**
 * Pattern: two trainer threads read one buffer. The main thread updates the buffer
 * from its collector and samples; a worker attaches to the same native buffer by
 * handle and samples concurrently.
 * Run: npm run build:ts && node dist/examples/two-trainers.js
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DataUser, SequentialBuffer, type BufferHandle } from '../ts/index.js';

const schema = { x: { dtype: 'float32', shape: [16] }, y: 'float32' } as const;

if (isMainThread) {
  const buffer = new SequentialBuffer(schema, 100_000);
  const user = new DataUser(buffer);
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const second = new Worker(new URL(import.meta.url), { workerData: { handle: buffer.handle(), stop } });
  const report = new Promise<{ batches: number }>((resolve) => second.once('message', resolve));
  let batches = 0;
  const x = new Float32Array(16);
  const until = Date.now() + 1000;
  for (let step = 0; Date.now() < until; step++) {
    x.fill(step % 7);
    user.collector.collect({ x, y: step % 7 });
    if (step % 500 === 499) {
      user.update();
      buffer.sample(64);
      batches++;
      await new Promise((r) => setImmediate(r));
    }
  }
  Atomics.store(stop, 0, 1);
  const other = await report;
  console.log(`main thread trained on ${batches} batches, the second trainer thread on ${other.batches}; buffer holds ${buffer.size} rows`);
  user.close();
  buffer.close();
} else {
  const { handle, stop } = workerData as { handle: BufferHandle<SequentialBuffer<typeof schema>>; stop: Int32Array };
  const buffer = SequentialBuffer.fromHandle(handle);
  let batches = 0;
  while (Atomics.load(stop, 0) === 0) {
    if (buffer.size >= 64) {
      const b = buffer.sample(64);
      if (b.y.length !== 64) throw new Error('short batch');
      batches++;
    }
    await new Promise((r) => setImmediate(r));
  }
  buffer.close();
  parentPort?.postMessage({ batches });
}
