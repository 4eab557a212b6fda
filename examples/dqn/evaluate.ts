import { CartPole } from '../envs/cartpole.js';
import type { Mlp } from './mlp.js';

/**
 * Returns of `episodes` greedy episodes (ε = 0) of CartPole-v1 on parameters `theta`,
 * in an env of their own seeded with `seed` (the training env is untouched).
 */
export function greedyReturns(mlp: Mlp, theta: Float32Array, seed: number, episodes: number): number[] {
  const env = new CartPole(seed);
  return Array.from({ length: episodes }, () => {
    let obs = env.reset();
    let total = 0;
    for (;;) {
      const { observation, reward, done, truncated } = env.step(mlp.greedy(theta, obs));
      total += reward;
      obs = observation;
      if (done || truncated) return total;
    }
  });
}
