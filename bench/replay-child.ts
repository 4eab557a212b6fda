/**
 * One replay configuration in a fresh process (so each one's resident memory is its
 * own). Prints JSON: µs per call of each operation, and bytes per held step.
 *
 * argv: <uniform1|uniform3|prioritized|sequential|small>
 * - uniform1 / uniform3 / prioritized: 1,000,000 steps of { state: float32[64],
 *   action: int32, reward: float32 } in 200-step episodes across 8 envs
 *   (interleaved as a vector env steps them), nStep 1 / nStep 3 / prioritized nStep 1.
 * - sequential: the same rows in a SequentialBuffer (the sample(256) the targets compare with).
 * - small: 100,000 steps with state float32[4] (the rlox workload).
 */
import { ReplayBuffer, SequentialBuffer } from '../ts/index.js';
import { perCallNs, rss, timeNs } from './stats.js';

const config = process.argv[2];
const ENVS = 8;
const EPISODE = 200;

/** Median µs of `fn` per call, over 15 blocks of `calls` after `warm` warm-up calls. */
const perCall = (fn: () => void, calls: number, warm?: number): number => perCallNs(fn, calls, warm) / 1000;

/** One vector-env step of all envs at time `t` as columns (state [8 × dim]). */
function vectorStep(dim: number, t: number) {
  const state = new Float32Array(ENVS * dim);
  const nextState = new Float32Array(ENVS * dim);
  for (let e = 0; e < ENVS; e++) {
    state.fill(t % EPISODE, e * dim, (e + 1) * dim);
    nextState.fill((t % EPISODE) + 1, e * dim, (e + 1) * dim);
  }
  const end = t % EPISODE === EPISODE - 1;
  return {
    state,
    action: new Int32Array(ENVS).fill(t % 4),
    reward: new Float32Array(ENVS).fill(1),
    nextState,
    terminated: new Uint8Array(ENVS).fill(end ? 1 : 0),
    env: Uint32Array.from({ length: ENVS }, (_, e) => e),
  };
}

function replay(steps: number, dim: number, options: { nStep?: number; priority?: object }) {
  const schema = { state: { dtype: 'float32', shape: [dim] }, action: 'int32', reward: 'float32' } as const;
  const before = rss();
  const rb = new ReplayBuffer({ schema, maxSize: steps, seed: 1, batchSize: 256, ...options });
  // Fill with addBatch of 8 (one vector step); time it on the full buffer (the steady
  // state, evicting as it adds), not on the first fill, which pays the page faults.
  const batches = Array.from({ length: EPISODE }, (_, t) => vectorStep(dim, t));
  for (let t = 0; t < steps / ENVS; t++) rb.addBatch(batches[t % EPISODE]);
  const bytesPerStep = (rss() - before) / steps;
  const addBatchUs = perCall(() => rb.addBatch(batches[0]), 2000);
  return { rb, addBatchUs, bytesPerStep, schema };
}

/** `add` per step: 200,000 steps of the 8 envs in vector order, into a full buffer of its own. */
function addPerStep(dim: number): number {
  const schema = { state: { dtype: 'float32', shape: [dim] }, action: 'int32', reward: 'float32' } as const;
  const rb = new ReplayBuffer({ schema, maxSize: 100_000, seed: 1 });
  const states = Array.from({ length: EPISODE + 1 }, (_, t) => new Float32Array(dim).fill(t));
  const steps = Array.from({ length: EPISODE * ENVS }, (_, i) => {
    const t = Math.floor(i / ENVS);
    return { state: states[t], action: t % 4, reward: 1, nextState: states[t + 1], terminated: t === EPISODE - 1, env: i % ENVS };
  });
  const n = 200_000;
  for (let i = 0; i < 100_000; i++) rb.add(steps[i % steps.length]);
  const ns = timeNs(() => {
    for (let i = 0; i < n; i++) rb.add(steps[i % steps.length]);
    void rb.size; // applies the staged steps inside the timing
  });
  return ns / n / 1000;
}

const run: Record<string, () => Record<string, number>> = {
  uniform1: () => {
    const { rb, addBatchUs, bytesPerStep } = replay(1_000_000, 64, {});
    return {
      addBatchUs,
      bytesPerStep,
      addUs: addPerStep(64),
      sampleUs: perCall(() => rb.sample(256), 200),
      sequencesUs: perCall(() => rb.sampleSequences(32, 16), 200),
    };
  },
  uniform3: () => {
    const { rb, bytesPerStep } = replay(1_000_000, 64, { nStep: 3 });
    return { bytesPerStep, sampleUs: perCall(() => rb.sample(256), 200) };
  },
  prioritized: () => {
    const { rb, bytesPerStep } = replay(1_000_000, 64, { priority: { alpha: 0.6, beta: 0.4 } });
    // Spread the priorities first, as training does.
    for (let i = 0; i < 2000; i++) {
      const b = rb.sample(256);
      rb.updatePriorities(
        b.ids,
        b.ids.map((id) => (id % 97) / 10),
      );
    }
    const b = rb.sample(256);
    const p = Float32Array.from(b.ids, (id) => (id % 13) + 0.5);
    return {
      bytesPerStep,
      sampleUs: perCall(() => rb.sample(256), 200),
      updateUs: perCall(() => rb.updatePriorities(b.ids, p), 500),
    };
  },
  sequential: () => {
    const schema = { state: { dtype: 'float32', shape: [64] }, action: 'int32', reward: 'float32' } as const;
    const before = rss();
    const buf = new SequentialBuffer(schema, 1_000_000, { seed: 1 });
    const chunk = 10_000;
    const cols = { state: new Float32Array(chunk * 64).fill(1), action: new Int32Array(chunk), reward: new Float32Array(chunk) };
    for (let i = 0; i < 1_000_000; i += chunk) buf.addBatch(cols);
    return { bytesPerStep: (rss() - before) / 1_000_000, sampleUs: perCall(() => buf.sample(256), 200) };
  },
  small: () => {
    const { rb } = replay(100_000, 4, {});
    const per = replay(100_000, 4, { priority: {} }).rb;
    return { sampleUs: perCall(() => rb.sample(256), 1000), prioritizedUs: perCall(() => per.sample(256), 1000) };
  },
};
const fn = run[config];
if (fn === undefined) throw new Error(`config: expected one of ${Object.keys(run).join(', ')}`);
console.log(JSON.stringify(fn()));
