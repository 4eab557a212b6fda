// #region readme
import { DataUser, SequentialBuffer } from 'expbuf';

const buffer = new SequentialBuffer(
  { obs: { dtype: 'float32', shape: [4] }, action: 'int32', reward: 'float32' },
  100_000,
);
const user = new DataUser(buffer);

// inference side
user.collector.collect({ obs: new Float32Array([0.1, 0, -0.2, 0]), action: 1, reward: 1 });

// training side
user.update();                       // moves queued rows into the buffer, one native call
const batch = buffer.sample(256);    // { obs: Float32Array(256 * 4), action: Int32Array(256), reward: Float32Array(256) }
// #endregion readme
console.log(`sampled ${batch.action.length} rows of ${buffer.size}`);
