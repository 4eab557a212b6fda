/**
 * Pattern: several workers collect into one user (one native queue).
 * Run: npm run build:ts && node dist/examples/many-workers.js
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DataCollector, DataUser, SequentialBuffer, type CollectorHandle } from '../ts/index.js';

const schema = { worker: 'uint8', t: 'uint32', value: 'float64' } as const;
type Step = { worker: number; t: number; value: number };
const WORKERS = 3;
const STEPS = 50_000;

if (isMainThread) {
  const user = new DataUser(new SequentialBuffer(schema, WORKERS * STEPS), { maxQueueSize: Infinity });
  const handle = user.collector.handle();
  const workers = Array.from({ length: WORKERS }, (_, id) => new Worker(new URL(import.meta.url), { workerData: { handle, id } }));
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
  user.update();
  const data = (user.buffer as SequentialBuffer<typeof schema>).getData();
  const perWorker = new Array<number>(WORKERS).fill(0);
  for (const w of data.worker) perWorker[w]++;
  console.log(`${user.size} rows from ${WORKERS} workers: ${perWorker.map((n, i) => `worker ${i}: ${n}`).join(', ')}`);
  user.close();
} else {
  const { handle, id } = workerData as { handle: CollectorHandle<Step>; id: number };
  const collector = DataCollector.fromHandle(handle);
  for (let t = 0; t < STEPS; t++) collector.collect({ worker: id, t, value: Math.random() });
  collector.close(); // hands over the staged rows
  parentPort?.postMessage('done');
}
