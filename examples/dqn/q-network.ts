/**
 * The trainer's Q-networks in tfjs: double DQN (van Hasselt et al. 2016) on n-step,
 * prioritized batches, with Adam.
 *
 * Why it is written out rather than built from `tf.layers` and `tf.variableGrads`: on
 * networks this small a training step costs what tfjs' op dispatch costs (tens of µs per
 * op), not arithmetic. So
 * - the online parameters are one flat variable (layout in mlp.ts): Adam updates one
 *   tensor per step, not two per layer;
 * - the backward pass is the three dense layers' gradient written out (about 20 ops;
 *   autodiff with a Huber loss records about 3× as many), with the loss' gradient with
 *   respect to the Q-values computed in JS from the values the TD errors need anyway;
 * - the weight gradients use `matMul(transpose(x), d)`: the WASM backend runs a
 *   `matMul` with `transposeA`/`transposeB` set several times slower than a transpose
 *   plus a plain `matMul` (bench/dqn-backends.ts measures the step).
 * `__test__/dqn.test.ts` checks the gradient against tfjs' autodiff.
 */
import * as tf from '@tensorflow/tfjs';
import { initialParameters, parameterCount, slices, type Layers } from './mlp.js';

/** What a training step reads: a `ReplayBuffer.sample()` of the CartPole schema. */
export interface DqnBatch {
  state: Float32Array;
  action: Int32Array;
  /** n-step return. */
  reward: Float32Array;
  /** The state K steps later (the final state at an episode's end, also when truncated). */
  nextState: Float32Array;
  /** 1 only when the episode terminated within the K steps: no bootstrap. */
  done: Uint8Array;
  /** γ^K. */
  discount: Float32Array;
  /** Importance weights of prioritized replay. */
  weights: Float32Array;
}

export interface StepResult {
  /** The batch's importance-weighted mean Huber loss. */
  loss: number;
  /** |TD error| per sampled step, for `ReplayBuffer.updatePriorities`. */
  absTdErrors: Float32Array;
}

/** Everything a resumed run needs: both networks and Adam's state. */
export interface LearnerState {
  online: Float32Array;
  target: Float32Array;
  /** Adam's step count and moments (absent before the first step). */
  adam: { iterations: number; m: Float32Array; v: Float32Array } | undefined;
}

export interface DoubleDqnOptions {
  layers: Layers;
  learningRate: number;
  /** Seeds the initial parameters. */
  seed: number;
  /** Huber loss' δ (default 1). */
  huberDelta?: number;
}

/** Adam whose learning rate can follow a schedule (tfjs keeps it protected). */
class ScheduledAdam extends tf.AdamOptimizer {
  get rate(): number {
    return this.learningRate;
  }
  set rate(value: number) {
    this.learningRate = value;
  }
}

type Dense = {
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
};

let created = 0;

export class DoubleDqn {
  readonly layers: Layers;
  readonly huberDelta: number;
  readonly #theta: tf.Variable<tf.Rank.R1>;
  readonly #optimizer: ScheduledAdam;
  /** The target network's parameters and their per-layer views (kept, replaced on sync). */
  #target: tf.Tensor1D;
  #targetLayers: Dense[];

  constructor(options: DoubleDqnOptions) {
    this.layers = options.layers;
    this.huberDelta = options.huberDelta ?? 1;
    const theta = initialParameters(options.layers, options.seed);
    this.#theta = tf.variable(tf.tensor1d(theta), true, `dqn${created++}/theta`);
    this.#optimizer = new ScheduledAdam(options.learningRate, 0.9, 0.999);
    this.#target = tf.keep(tf.tensor1d(theta));
    this.#targetLayers = this.#unpackKept(this.#target);
  }

  get learningRate(): number {
    return this.#optimizer.rate;
  }

  set learningRate(value: number) {
    this.#optimizer.rate = value;
  }

  /** Gradient steps taken (Adam's count). */
  get iterations(): number {
    return this.#optimizer.iterations;
  }

  /** The layers' kernels and biases as views of a flat parameter vector. */
  #unpack(theta: tf.Tensor1D): Dense[] {
    return slices(this.layers).map((s) => ({
      kernel: tf.reshape(tf.slice(theta, s.kernel, s.inputs * s.outputs), [s.inputs, s.outputs]) as tf.Tensor2D,
      bias: tf.slice(theta, s.bias, s.outputs),
    }));
  }

  #unpackKept(theta: tf.Tensor1D): Dense[] {
    return tf.tidy(() => this.#unpack(theta).map((d) => ({ kernel: tf.keep(d.kernel), bias: tf.keep(d.bias) })));
  }

  /** Every layer's output (ReLU on hidden layers; the last is the Q-values). */
  #activations(net: Dense[], x: tf.Tensor2D): tf.Tensor2D[] {
    const out: tf.Tensor2D[] = [];
    let h = x;
    net.forEach((d, l) => {
      h = tf.fused.matMul({ a: h, b: d.kernel, bias: d.bias, activation: l < net.length - 1 ? 'relu' : 'linear' }) as tf.Tensor2D;
      out.push(h);
    });
    return out;
  }

  /**
   * The gradient of the loss with respect to the flat parameters, given the gradient
   * `dq` with respect to the Q-values of `x`, and the activations `acts` of `x`.
   */
  #backward(net: Dense[], x: tf.Tensor2D, acts: tf.Tensor2D[], dq: tf.Tensor2D): tf.Tensor1D {
    const grads: tf.Tensor[] = [];
    let d = dq;
    for (let l = net.length - 1; l >= 0; l--) {
      // ReLU's derivative is 1 where its output is positive.
      if (l < net.length - 1) d = tf.mul(d, tf.step(acts[l]));
      const input = l === 0 ? x : acts[l - 1];
      grads[2 * l] = tf.reshape(tf.matMul(tf.transpose(input), d), [-1]);
      grads[2 * l + 1] = tf.sum(d, 0);
      if (l > 0) d = tf.matMul(d, tf.transpose(net[l].kernel));
    }
    return tf.concat(grads) as tf.Tensor1D;
  }

  /** The loss' gradient with respect to the Q-values of `x`, as `dq` of `#backward` (for the test). */
  gradientOf(x: Float32Array, dq: Float32Array): Float32Array {
    const [obs, actions] = [this.layers[0], this.layers[this.layers.length - 1]];
    return tf.tidy(() => {
      const net = this.#unpack(this.#theta);
      const input = tf.tensor2d(x, [x.length / obs, obs]);
      const g = this.#backward(net, input, this.#activations(net, input), tf.tensor2d(dq, [x.length / obs, actions]));
      return (g.dataSync() as Float32Array).slice();
    });
  }

  /**
   * One Adam step on the importance-weighted Huber loss of the double-DQN targets
   * y = R + (1 − done) · γ^K · Q_target(s', argmax_a Q_online(s', a)).
   */
  trainStep(b: DqnBatch): StepResult {
    const [obs, actions] = [this.layers[0], this.layers[this.layers.length - 1]];
    const n = b.action.length;
    const absTdErrors = new Float32Array(n);
    const delta = this.huberDelta;
    let loss = 0;
    tf.tidy(() => {
      const net = this.#unpack(this.#theta);
      const next = tf.tensor2d(b.nextState, [n, obs]);
      const qNextOnline = this.#activations(net, next).at(-1)?.dataSync() as Float32Array;
      const qNextTarget = this.#activations(this.#targetLayers, next).at(-1)?.dataSync() as Float32Array;
      const x = tf.tensor2d(b.state, [n, obs]);
      const acts = this.#activations(net, x);
      const q = acts[acts.length - 1].dataSync();
      const dq = new Float32Array(n * actions);
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let a = 1; a < actions; a++) if (qNextOnline[i * actions + a] > qNextOnline[i * actions + best]) best = a;
        const y = b.reward[i] + (b.done[i] ? 0 : b.discount[i] * qNextTarget[i * actions + best]);
        const at = i * actions + b.action[i];
        const err = q[at] - y;
        const abs = Math.abs(err);
        absTdErrors[i] = abs;
        const w = b.weights[i] / n;
        loss += w * (abs <= delta ? 0.5 * err * err : delta * (abs - 0.5 * delta));
        dq[at] = w * Math.max(-delta, Math.min(delta, err));
      }
      const grad = this.#backward(net, x, acts, tf.tensor2d(dq, [n, actions]));
      this.#optimizer.applyGradients([{ name: this.#theta.name, tensor: grad }]);
    });
    return { loss, absTdErrors };
  }

  /** Copies the online parameters into the target network. */
  syncTarget(): void {
    this.#setTarget(tf.keep(this.#theta.clone()));
  }

  #setTarget(theta: tf.Tensor1D): void {
    tf.dispose([this.#target, ...this.#targetLayers.flatMap((d) => [d.kernel, d.bias])]);
    this.#target = theta;
    this.#targetLayers = this.#unpackKept(theta);
  }

  /** A copy of the online parameters (layout in mlp.ts), e.g. to post to the agent. */
  parameters(): Float32Array<ArrayBuffer> {
    // A copy: the CPU backend's dataSync() returns its own storage.
    return (this.#theta.dataSync() as Float32Array<ArrayBuffer>).slice();
  }

  async state(): Promise<LearnerState> {
    const [, m, v] = await this.#optimizer.getWeights();
    const adam =
      m === undefined
        ? undefined
        : { iterations: this.#optimizer.iterations, m: m.tensor.dataSync().slice() as Float32Array, v: v.tensor.dataSync().slice() as Float32Array };
    return { online: this.parameters(), target: (this.#target.dataSync() as Float32Array).slice(), adam };
  }

  async setState(s: LearnerState): Promise<void> {
    const count = parameterCount(this.layers);
    for (const [name, a] of [
      ['online', s.online],
      ['target', s.target],
      ['adam.m', s.adam?.m],
      ['adam.v', s.adam?.v],
    ] as const) {
      if (a !== undefined && a.length !== count) throw new Error(`${name}: ${a.length} parameters, the network has ${count}`);
    }
    tf.tidy(() => this.#theta.assign(tf.tensor1d(s.online)));
    this.#setTarget(tf.keep(tf.tensor1d(s.target)));
    if (s.adam !== undefined) {
      // setWeights makes its own variables from these.
      const given = [tf.scalar(s.adam.iterations, 'int32'), tf.tensor1d(s.adam.m), tf.tensor1d(s.adam.v)];
      const [iter, m, v] = given;
      await this.#optimizer.setWeights([
        { name: 'iter', tensor: iter },
        { name: `${this.#theta.name}/m`, tensor: m },
        { name: `${this.#theta.name}/v`, tensor: v },
      ]);
      tf.dispose(given);
    }
  }

  dispose(): void {
    this.#optimizer.dispose();
    tf.dispose([this.#theta, this.#target, ...this.#targetLayers.flatMap((d) => [d.kernel, d.bias])]);
  }
}
