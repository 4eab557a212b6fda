/**
 * The main job's learner (examples/dqn/q-network.ts): its written-out gradient against
 * tfjs' autodiff, its double-DQN targets against a plain-JS forward pass (mlp.ts, what
 * the agent acts on), and a resumed learner continuing exactly (both networks and Adam).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../examples/dqn/backend.js';
import { Mlp, slices, type Layers } from '../examples/dqn/mlp.js';
import { DoubleDqn, type DqnBatch } from '../examples/dqn/q-network.js';

const layers: Layers = [4, 8, 6, 2];
const n = 16;

function batch(seed: number): DqnBatch {
  let s = seed;
  const r = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
  return {
    state: Float32Array.from({ length: n * 4 }, r),
    action: Int32Array.from({ length: n }, () => (r() > 0 ? 1 : 0)),
    reward: Float32Array.from({ length: n }, () => 1 + r()),
    nextState: Float32Array.from({ length: n * 4 }, r),
    done: Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0)),
    discount: Float32Array.from({ length: n }, (_, i) => 0.99 ** (1 + (i % 3))),
    weights: Float32Array.from({ length: n }, () => 0.5 + 0.5 * Math.abs(r())),
  };
}

/** The same network by tfjs ops on a flat parameter tensor, for autodiff. */
function reference(theta: tf.Tensor1D, x: tf.Tensor2D): tf.Tensor2D {
  let h = x;
  const all = slices(layers);
  all.forEach((s, l) => {
    const w = tf.reshape(tf.slice(theta, s.kernel, s.inputs * s.outputs), [s.inputs, s.outputs]);
    h = tf.add(tf.matMul(h, w), tf.slice(theta, s.bias, s.outputs));
    if (l < all.length - 1) h = tf.relu(h);
  });
  return h;
}

describe.each(['cpu', 'wasm'] as const)('DoubleDqn on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it('computes the gradient tfjs autodiff computes', () => {
    const net = new DoubleDqn({ layers, learningRate: 1e-3, seed: 3 });
    const b = batch(1);
    const dq = Float32Array.from({ length: n * 2 }, (_, i) => Math.cos(i));
    const ours = net.gradientOf(b.state, dq);
    const auto = tf.tidy(() => {
      const x = tf.tensor2d(b.state, [n, 4]);
      const g = tf.grad((theta: tf.Tensor) => tf.sum(tf.mul(reference(theta as tf.Tensor1D, x), tf.tensor2d(dq, [n, 2]))))(tf.tensor1d(net.parameters()));
      return g.dataSync().slice();
    });
    expect(ours.length).toBe(auto.length);
    for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(auto[i], 4);
    net.dispose();
  });

  it('reports |Q(s,a) − y| with y from the online argmax, the target value and done', async () => {
    const net = new DoubleDqn({ layers, learningRate: 1e-2, seed: 4 });
    // Online and target differ after steps without a sync.
    for (let k = 0; k < 5; k++) net.trainStep(batch(10 + k));
    const b = batch(99);
    const { online, target } = await net.state();
    expect(online).not.toEqual(target);
    const mlp = new Mlp(layers);
    const expected = Array.from({ length: n }, (_, i) => {
      const next = b.nextState.subarray(4 * i, 4 * i + 4);
      const a = mlp.greedy(online, next);
      const y = b.reward[i] + (b.done[i] ? 0 : b.discount[i] * mlp.q(target, next)[a]);
      return Math.abs(mlp.q(online, b.state.subarray(4 * i, 4 * i + 4))[b.action[i]] - y);
    });
    const { absTdErrors, loss } = net.trainStep(b);
    for (let i = 0; i < n; i++) expect(absTdErrors[i]).toBeCloseTo(expected[i], 4);
    const huber = (d: number) => (d <= 1 ? 0.5 * d * d : d - 0.5);
    expect(loss).toBeCloseTo(
      expected.reduce((s, d, i) => s + (b.weights[i] * huber(d)) / n, 0),
      4,
    );
    net.dispose();
  });

  it('continues exactly from its saved state (both networks, Adam step count and moments)', async () => {
    const a = new DoubleDqn({ layers, learningRate: 1e-2, seed: 5 });
    for (let k = 0; k < 7; k++) a.trainStep(batch(k));
    const saved = await a.state();
    expect(saved.adam?.iterations).toBe(7);
    const b = new DoubleDqn({ layers, learningRate: 1e-2, seed: 6 });
    await b.setState(saved);
    expect(b.iterations).toBe(7);
    for (let k = 7; k < 10; k++) {
      a.trainStep(batch(k));
      b.trainStep(batch(k));
    }
    expect(b.parameters()).toEqual(a.parameters());
    // A learner without the moments (same parameters, fresh Adam) goes elsewhere.
    const c = new DoubleDqn({ layers, learningRate: 1e-2, seed: 6 });
    await c.setState({ ...saved, adam: undefined });
    for (let k = 7; k < 10; k++) c.trainStep(batch(k));
    expect(c.parameters()).not.toEqual(a.parameters());
    for (const net of [a, b, c]) net.dispose();
  });
});
