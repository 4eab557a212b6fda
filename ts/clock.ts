/**
 * Collect and training times: milliseconds since the epoch, as `Date.now()` counts
 * them, but with sub-millisecond resolution so that "strictly later" separates rows
 * collected within the same millisecond.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
