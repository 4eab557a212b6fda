import { native } from './native/binding.js';

/**
 * How many native queues and buffers are alive in this process, over all threads.
 * Each lives while some object attached to it is neither closed nor collected: a
 * diagnostic for leaks.
 */
export function registrySize(): number {
  return native.registrySize();
}
