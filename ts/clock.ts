/**
 * Collect and training times: milliseconds since the epoch, as `Date.now()` counts
 * them, but with sub-millisecond resolution so that "strictly later" separates rows
 * collected within the same millisecond.
 */
const origin = performance.timeOrigin;

export function now(): number {
  return origin + performance.now();
}
