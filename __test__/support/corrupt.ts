import { appendFileSync, copyFileSync, mkdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Copies the state in `good` (its `files`) into the new directory `dir` and damages
 * one file at random (`rand(k)` draws in [0, k)): truncated, a bit flipped, deleted,
 * or a byte appended.
 */
export function corruptCopy(good: string, files: readonly string[], dir: string, rand: (k: number) => number): void {
  mkdirSync(dir);
  for (const f of files) copyFileSync(join(good, f), join(dir, f));
  const victim = join(dir, files[rand(files.length)]);
  const bytes = readFileSync(victim);
  switch (rand(4)) {
    case 0:
      truncateSync(victim, rand(bytes.length));
      break;
    case 1:
      bytes[rand(bytes.length)] ^= 1 << rand(8);
      writeFileSync(victim, bytes);
      break;
    case 2:
      unlinkSync(victim);
      break;
    default:
      appendFileSync(victim, Buffer.from([rand(256)]));
  }
}
