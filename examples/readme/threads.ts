// #region readme
import { Worker } from 'node:worker_threads';
import { DataUser, SequentialBuffer } from 'expbuf';
import { schema } from './threads-agent.js';

const user = new DataUser(new SequentialBuffer(schema, 100_000));
const worker = new Worker(new URL('./threads-agent.js', import.meta.url), { workerData: user.collector.handle() });
// The worker says when it is done; 'error' carries its exception, 'exit' its code.
const done = new Promise<number>((resolve, reject) => {
  worker.once('message', (m: { collected: number }) => resolve(m.collected));
  worker.once('error', reject);
  worker.once('exit', (code) => code !== 0 && reject(new Error(`agent exited with ${code}`)));
});
const collected = await done;
user.update();
console.log(`the agent collected ${collected} steps; the buffer holds ${user.size}`);
// #endregion readme
await worker.terminate();
user.close();
