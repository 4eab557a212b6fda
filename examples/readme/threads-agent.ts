// #region readme
import { parentPort, workerData } from 'node:worker_threads';
import { DataCollector, type CollectorHandle, type StepOf } from 'expbuf';

export const schema = { obs: { dtype: 'float32', shape: [4] }, action: 'int32', reward: 'float32' } as const;
type Step = StepOf<typeof schema>;

if (parentPort !== null) {
  // The handle keeps its step type through postMessage: a wrong step does not compile.
  const collector = DataCollector.fromHandle(workerData as CollectorHandle<Step>);   // same native queue, same field checks
  for (let t = 0; t < 1000; t++) collector.collect({ obs: [t, 0, 0, 0], action: t % 2, reward: 1 });
  collector.close();                                  // hands the staged steps over
  parentPort.postMessage({ collected: 1000 });
}
// #endregion readme
