/**
 * One build's figures for bench/wasm.ts: the addon is whichever EXPBUF_NATIVE_PATH names
 * (the native `.node`, or the wasm build's loader). Prints one JSON line.
 */
import { DataUser, expbufInfo, SequentialBuffer } from '../ts/index.js';
import { perCallNs } from './stats.js';

const schema = { obs: { dtype: 'float32', shape: [64] }, action: 'int32', reward: 'float32' } as const;

// Per-step collect + update() every 1,000 steps, as the pipeline section measures it.
const buffer = new SequentialBuffer(schema, 100_000, { seed: 1 });
const user = new DataUser(buffer);
const step = { obs: new Float32Array(64).fill(0.5), action: 1, reward: 0.25 };
let n = 0;
const collectNs = perCallNs(() => {
  user.collector.collect(step);
  if (++n % 1000 === 0) user.update();
}, 10_000);
user.update();

// sample(256) from 1,000,000 rows.
const big = new SequentialBuffer(schema, 1_000_000, { seed: 2 });
const rows = 10_000;
const obs = new Float32Array(rows * 64);
for (let i = 0; i < obs.length; i++) obs[i] = i % 997;
const cols = { obs, action: new Int32Array(rows), reward: new Float32Array(rows) };
for (let k = 0; k < 100; k++) big.addBatch(cols);
const sampleUs = perCallNs(() => big.sample(256), 50) / 1000;

console.log(JSON.stringify({ wasm: expbufInfo.wasm, collectNs, sampleUs }));
user.close();
buffer.close();
big.close();
