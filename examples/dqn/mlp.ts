/**
 * The Q-network's shape and a plain-JS forward pass: the agent thread acts on weights
 * the trainer posts, without loading tfjs.
 */
export const LAYERS = [4, 64, 64, 2] as const;

/** Kernel and bias per dense layer, as tfjs `getWeights()` orders them. */
export type Weights = Float32Array[];

/** Q-values of one observation; ReLU between layers, linear output. */
export function forward(weights: Weights, obs: ArrayLike<number>, scratch: Float32Array[]): Float32Array {
  let input: ArrayLike<number> = obs;
  for (let l = 0; l < LAYERS.length - 1; l++) {
    const [n, m] = [LAYERS[l], LAYERS[l + 1]];
    const kernel = weights[2 * l];
    const bias = weights[2 * l + 1];
    const out = scratch[l];
    for (let j = 0; j < m; j++) {
      let s = bias[j];
      for (let i = 0; i < n; i++) s += input[i] * kernel[i * m + j];
      out[j] = l < LAYERS.length - 2 && s < 0 ? 0 : s;
    }
    input = out;
  }
  return scratch[LAYERS.length - 2];
}

export function scratchFor(): Float32Array[] {
  return LAYERS.slice(1).map((m) => new Float32Array(m));
}
