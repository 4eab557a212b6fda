/**
 * The producing side of the cross-thread bench: waits for the start flag, then sends
 * `rows` steps of { obs: float32[64], action: int32, reward: float32 } by one method.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DataCollector, type CollectorHandle, type StepOf } from '../ts/index.js';
import { OBS, ROW_COPIES, rowsOf, type Rows } from './specialized.js';

/**
 * - collect / collectBatch: expbuf, per step / 256-row columns, into `handle`'s queue.
 * - jsStaged: the specialized JS's per-step collect (an unrolled row copy, as the
 *   issue prescribes, and a `Date.now()` per row) into 256-row typed batches, each
 *   posted as transferables.
 * - jsBatches: 256-row transferable batches with no per-row work at all (fresh
 *   columns, one `Date.now()` per batch): the most JS can send.
 * - latency: one expbuf row at a time, stamped (field `t`), handed over at once.
 */
export type Method = 'collect' | 'collectBatch' | 'jsStaged' | 'jsBatches' | 'latency';
export interface ThreadBenchTask {
  method: Method;
  rows: number;
  handle?: CollectorHandle<Step> | CollectorHandle<TimedStep>;
  /** [0]: start flag. */
  flags: Int32Array;
}

type Step = StepOf<{ readonly obs: { readonly dtype: 'float32'; readonly shape: readonly [64] }; readonly action: 'int32'; readonly reward: 'float32' }>;
type TimedStep = Step & { t: number };
const B = 256;
const task = workerData as ThreadBenchTask;
const port = parentPort;
if (port === null) throw new Error('thread-worker runs as a worker');
// Whole batches only: a JS batch is posted when full.
if (task.rows % B !== 0) throw new Error(`rows: expected a multiple of ${B}, got ${task.rows}`);
port.postMessage('ready');
Atomics.wait(task.flags, 0, 0);

/** Posts `batch`, handing its memory over. */
function post(batch: Rows): void {
  port?.postMessage(batch, [batch.obs.buffer, batch.action.buffer, batch.reward.buffer, batch.time.buffer]);
}

const obs = new Float32Array(OBS).map((_, i) => i);
switch (task.method) {
  case 'collect': {
    const c = DataCollector.fromHandle(task.handle as CollectorHandle<Step>);
    for (let i = 0; i < task.rows; i++) c.collect({ obs, action: i, reward: 1 });
    c.close();
    break;
  }
  case 'latency': {
    const c = DataCollector.fromHandle(task.handle as CollectorHandle<TimedStep>);
    const origin = performance.timeOrigin;
    for (let i = 0; i < task.rows; i++) {
      // One row at a time, handed over at once (the thread returns to its event loop),
      // about every 100 µs.
      const until = performance.now() + 0.1;
      while (performance.now() < until);
      c.collect({ obs, action: i, reward: 1, t: origin + performance.now() });
      await new Promise((r) => setImmediate(r));
    }
    c.close();
    break;
  }
  case 'collectBatch': {
    const c = DataCollector.fromHandle(task.handle as CollectorHandle<Step>);
    const cols = { obs: new Float32Array(B * OBS), action: new Int32Array(B), reward: new Float32Array(B) };
    for (let i = 0; i < task.rows; i += B) c.collectBatch(cols);
    c.close();
    break;
  }
  case 'jsStaged': {
    const copy = ROW_COPIES.unrolled;
    let batch = rowsOf(B);
    for (let i = 0; i < task.rows; i++) {
      const slot = i % B;
      copy(obs, 0, batch.obs, slot * OBS);
      batch.action[slot] = i;
      batch.reward[slot] = 1;
      batch.time[slot] = Date.now();
      if (slot === B - 1) {
        post(batch);
        batch = rowsOf(B);
      }
    }
    break;
  }
  case 'jsBatches':
    for (let i = 0; i < task.rows; i += B) {
      const batch = rowsOf(B);
      batch.time.fill(Date.now());
      post(batch);
    }
    break;
}
port.postMessage('done');
