import { getRandomValues } from 'node:crypto';

/** A fresh seed in [0, 2^53) for buffers created without one. */
export function randomSeed(): number {
  const w = getRandomValues(new Uint32Array(2));
  return (w[0] & 0x1fffff) * 2 ** 32 + w[1];
}
