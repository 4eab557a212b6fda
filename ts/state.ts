/**
 * Saved state in TS terms: composite states (a user, a dict of users) written into one
 * staging directory beside the target and swapped in at once, and loaded by first
 * preparing (reading and checking) every part, then applying them, so that a bad part
 * changes nothing; and small files written atomically and durably. The file rules
 * themselves live in the core (`state/atomic.rs`).
 */
import { native } from './native/binding.js';

/** Writes a state with `write(stagedDir)` and swaps it in for `dir` atomically. */
export async function saveStaged(dir: string, write: (staged: string) => Promise<void>): Promise<void> {
  const staged = native.stageDir(dir);
  try {
    await write(staged);
    await native.commitDir(staged, dir);
  } catch (e) {
    native.discardDir(staged);
    throw e;
  }
}

/** Writes `text` as file `path`: fsynced, renamed into place, the directory fsynced. */
export async function writeFileDurably(path: string, text: string): Promise<void> {
  await native.writeFileAtomic(path, new TextEncoder().encode(text));
}

/** A checked state part waiting to be put in place. */
export interface Prepared {
  apply(): Promise<void>;
}

/** A directory name for a dict entry: names may hold any character. */
export function entryDir(name: string): string {
  return encodeURIComponent(name).replace(/^\.\.?$/, (m) => m.replace(/\./g, '%2E'));
}
