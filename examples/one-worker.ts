/**
 * Pattern: one worker collects, the main thread trains.
 * Run: npm run build:ts && node dist/examples/one-worker.js
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DataCollector, DataUser, SequentialBuffer, type CollectorHandle } from '../ts/index.js';

const schema = { obs: { dtype: 'float32', shape: [8] }, reward: 'float32' } as const;
type Step = { obs: Float32Array; reward: number };

if (isMainThread) {
  const user = new DataUser(new SequentialBuffer(schema, 10_000));
  const worker = new Worker(new URL(import.meta.url), { workerData: user.collector.handle() });
  const done = new Promise((resolve) => worker.once('message', resolve));
  for (let round = 0; round < 5; round++) {
    await new Promise((r) => setTimeout(r, 20));
    user.update();
    if (user.size > 0) {
      const batch = (user.buffer as SequentialBuffer<typeof schema>).sample(32);
      const meanReward = batch.reward.reduce((a, b) => a + b, 0) / 32;
      console.log(`round ${round}: buffer holds ${user.size} rows; a batch of 32 has mean reward ${meanReward.toFixed(3)}`);
    }
  }
  await done;
  user.update();
  console.log(`worker finished; ${user.size} rows in the buffer, ${user.collector.droppedCount} dropped`);
  user.close();
} else {
  const collector = DataCollector.fromHandle(workerData as CollectorHandle<Step>);
  const obs = new Float32Array(8);
  for (let t = 0; t < 20_000; t++) {
    obs.fill(Math.sin(t / 100));
    collector.collect({ obs, reward: Math.cos(t / 50) });
    if (t % 1000 === 0) await new Promise((r) => setImmediate(r)); // staged rows reach the queue
  }
  collector.close();
  parentPort?.postMessage('done');
}
