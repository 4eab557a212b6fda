/**
 * How expbuf's objects print (`console.log`, `util.inspect`): what a user wants to see
 * (kind, sizes, fields, queue figures), never internals.
 */
import { inspect, type InspectOptions } from 'node:util';

export const custom: typeof inspect.custom = inspect.custom;

/** `Name { a: 1, b: … }`, formatted with Node's options (colors, depth). */
export function show(name: string, fields: Record<string, unknown>, depth: number, options: InspectOptions): string {
  if (depth < 0) return `[${name}]`;
  const inner = inspect(fields, { ...options, depth: options.depth == null ? null : options.depth - 1 });
  return `${name} ${inner}`;
}
