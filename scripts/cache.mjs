/**
 * Where the build scripts keep what they fetch or make once (target Nodes, the musl
 * runtime, wine's import library), and how they fill it.
 *
 *   import { CACHE, cachedDir } from './cache.mjs';
 *   const dir = cachedDir(join(CACHE, 'thing-1.0'), (tmp) => fetchInto(tmp));
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** ~/.cache/expbuf. */
export const CACHE = join(homedir(), '.cache', 'expbuf');

/**
 * `dir`, made by `fill(tmp)` unless it exists: `fill` writes a fresh `<dir>.tmp`, which is
 * renamed to `dir` only when it returns, so a run cut short leaves no half directory.
 */
export function cachedDir(dir, fill) {
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  fill(tmp);
  renameSync(tmp, dir);
  return dir;
}
