/**
 * The Q-network's parameters as one flat Float32Array, and a plain-JS forward pass over
 * them: the agent thread and the greedy evaluation act on what the trainer posts without
 * loading tfjs, and the trainer (q-network.ts) keeps the same vector as one tfjs variable
 * (one Adam update per step instead of one per tensor).
 *
 * Layout for layer sizes [n0, n1, …, nL]: for each layer l, its kernel (n_l × n_{l+1},
 * row-major, as tfjs' dense kernels) then its bias (n_{l+1}).
 */

/** Layer sizes, input first, output (one Q-value per action) last. */
export type Layers = readonly number[];

/** Where layer l's kernel and bias start in the flat vector, and their shapes. */
export interface LayerSlice {
  kernel: number;
  bias: number;
  inputs: number;
  outputs: number;
}

export function slices(layers: Layers): LayerSlice[] {
  const out: LayerSlice[] = [];
  let at = 0;
  for (let l = 0; l + 1 < layers.length; l++) {
    const [inputs, outputs] = [layers[l], layers[l + 1]];
    out.push({ kernel: at, bias: at + inputs * outputs, inputs, outputs });
    at += inputs * outputs + outputs;
  }
  return out;
}

export function parameterCount(layers: Layers): number {
  const last = slices(layers).at(-1);
  return last === undefined ? 0 : last.bias + last.outputs;
}

/**
 * Glorot-uniform kernels (tfjs' dense default) and zero biases, from a seeded RNG, so a
 * seed gives the same network on every backend.
 */
export function initialParameters(layers: Layers, seed: number): Float32Array {
  const theta = new Float32Array(parameterCount(layers));
  let s = (Math.trunc(seed) ^ 0x2545f491) >>> 0;
  const uniform = (): number => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (const { kernel, inputs, outputs } of slices(layers)) {
    const limit = Math.sqrt(6 / (inputs + outputs));
    for (let i = 0; i < inputs * outputs; i++) theta[kernel + i] = (2 * uniform() - 1) * limit;
  }
  return theta;
}

/** The forward pass of one network shape, with its activations preallocated (no allocation per call). */
export class Mlp {
  readonly layers: Layers;
  readonly #slices: LayerSlice[];
  readonly #scratch: Float32Array[];

  constructor(layers: Layers) {
    this.layers = layers;
    this.#slices = slices(layers);
    this.#scratch = layers.slice(1).map((m) => new Float32Array(m));
  }

  /** Q-values of one observation: ReLU between layers, linear output (valid until the next call). */
  q(theta: Float32Array, obs: ArrayLike<number>): Float32Array {
    let input: ArrayLike<number> = obs;
    const all = this.#slices;
    for (let l = 0; l < all.length; l++) {
      const { kernel, bias, inputs, outputs } = all[l];
      const out = this.#scratch[l];
      const hidden = l < all.length - 1;
      for (let j = 0; j < outputs; j++) {
        let s = theta[bias + j];
        for (let i = 0; i < inputs; i++) s += input[i] * theta[kernel + i * outputs + j];
        out[j] = hidden && s < 0 ? 0 : s;
      }
      input = out;
    }
    return this.#scratch[all.length - 1];
  }

  /** The action with the largest Q-value (the first on a tie). */
  greedy(theta: Float32Array, obs: ArrayLike<number>): number {
    const q = this.q(theta, obs);
    let best = 0;
    for (let a = 1; a < q.length; a++) if (q[a] > q[best]) best = a;
    return best;
  }
}
