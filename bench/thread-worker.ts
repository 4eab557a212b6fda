/**
 * The producing side of the cross-thread bench: waits for the start flag, then sends
 * `rows` steps of { obs: float32[64], action: int32, reward: float32 } by one method.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DataCollector, type CollectorHandle, type StepOf } from '../ts/index.js';

export type Method = 'collect' | 'collectBatch' | 'postMessage' | 'postMessageBatch' | 'latency';
export interface ThreadBenchTask {
  method: Method;
  rows: number;
  handle?: CollectorHandle<Step>;
  /** [0]: start flag. */
  flags: Int32Array;
}

type Step = StepOf<{ readonly obs: { readonly dtype: 'float32'; readonly shape: readonly [64] }; readonly action: 'int32'; readonly reward: 'float32'; readonly t: 'float64' }>;
const B = 256;
const task = workerData as ThreadBenchTask;
const port = parentPort;
if (port === null) throw new Error('thread-worker runs as a worker');
port.postMessage('ready');
Atomics.wait(task.flags, 0, 0);

const obs = new Float32Array(64).map((_, i) => i);
const origin = performance.timeOrigin;
if (task.method === 'collect' || task.method === 'latency') {
  const c = DataCollector.fromHandle(task.handle as CollectorHandle<Step>);
  for (let i = 0; i < task.rows; i++) {
    if (task.method === 'latency') {
      // One row at a time, handed over at once (the thread returns to its event loop),
      // about every 100 µs.
      const until = performance.now() + 0.1;
      while (performance.now() < until);
      c.collect({ obs, action: i, reward: 1, t: origin + performance.now() });
      await new Promise((r) => setImmediate(r));
    } else {
      c.collect({ obs, action: i, reward: 1, t: 0 });
    }
  }
  c.close();
} else if (task.method === 'collectBatch') {
  const c = DataCollector.fromHandle(task.handle as CollectorHandle<Step>);
  const cols = { obs: new Float32Array(B * 64), action: new Int32Array(B), reward: new Float32Array(B), t: new Float64Array(B) };
  for (let i = 0; i < task.rows; i += B) c.collectBatch(cols);
  c.close();
} else if (task.method === 'postMessage') {
  for (let i = 0; i < task.rows; i++) port.postMessage({ obs, action: i, reward: 1 });
} else {
  for (let i = 0; i < task.rows; i += B) {
    const batch = { obs: new Float32Array(B * 64), action: new Int32Array(B), reward: new Float32Array(B) };
    port.postMessage(batch, [batch.obs.buffer, batch.action.buffer, batch.reward.buffer]);
  }
}
port.postMessage('done');
