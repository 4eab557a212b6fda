/**
 * Composite states (a user, a dict of users): written into one staging directory
 * beside the target and swapped in at once; loaded by first preparing (reading and
 * checking) every part, then applying them, so that a bad part changes nothing.
 */
import { fromTaskError } from './errors.js';
import { native } from './native.js';

/** Writes a state with `write(stagedDir)` and swaps it in for `dir` atomically. */
export async function saveStaged(dir: string, write: (staged: string) => Promise<void>): Promise<void> {
  const staged = native.stageDir(dir);
  try {
    await write(staged);
    await native.commitDir(staged, dir);
  } catch (e) {
    native.discardDir(staged);
    throw fromTaskError(e);
  }
}

/** A checked state part waiting to be put in place. */
export interface Prepared {
  apply(): Promise<void>;
}

/** Awaits a native state task, turning its coded message back into an error `code`. */
export async function task<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw fromTaskError(e);
  }
}

/** A directory name for a dict entry: names may hold any character. */
export function entryDir(name: string): string {
  return encodeURIComponent(name).replace(/^\.\.?$/, (m) => m.replace(/\./g, '%2E'));
}
