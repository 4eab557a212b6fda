/**
 * `StateStore`, as pamiq-core's: saves named objects together into a timestamped
 * directory, marks it complete last, loads the newest complete one, keeps the latest N.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { now } from './clock.js';
import { ExpbufError, invalid } from './errors.js';
import { INFO, native } from './native/binding.js';
import { entryDir, writeFileDurably } from './state.js';

/** Anything with a state: users dicts, users, buffers, trainers, your own objects. */
export interface PersistentState {
  saveState(dir: string): Promise<void>;
  loadState(dir: string): Promise<void>;
}

export interface StateStoreOptions {
  /** Complete states kept after each save, newest first (default `INFO.defaults.statesKept`, 3). */
  keep?: number;
  /** Minimum ms between saves for `saveIfDue()` (default `INFO.defaults.saveIntervalMs`, 10 minutes). */
  saveInterval?: number;
}

/** Written last into a state directory: its presence means the state is whole. */
export const COMPLETE_MARKER = 'COMPLETE';
const SUFFIX = '.state';

/** A sortable, filesystem-safe timestamp: 2026-11-21T03-49-40.123Z. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/:/g, '-');
}

export class StateStore {
  readonly dir: string;
  readonly keep: number;
  readonly saveInterval: number;
  readonly #objects = new Map<string, PersistentState>();
  #lastSave = -Infinity;

  /**
   * @param dir - where the state directories live (created if missing)
   * @throws `EXPBUF_INVALID_ARGUMENT` for a bad `keep` or `saveInterval`
   */
  constructor(dir: string, options: StateStoreOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) throw invalid('dir: expected a directory path');
    native.checkOptions(options, 'options', ['keep', 'saveInterval']);
    this.dir = dir;
    this.keep = options.keep ?? INFO.defaults.statesKept;
    this.saveInterval = options.saveInterval ?? INFO.defaults.saveIntervalMs;
    if (!(Number.isInteger(this.keep) && this.keep >= 1)) throw invalid(`options.keep: ${String(this.keep)} is not a positive integer`);
    if (!(typeof this.saveInterval === 'number' && this.saveInterval >= 0)) {
      throw invalid(`options.saveInterval: ${String(this.saveInterval)} is not a non-negative number of ms`);
    }
    native.makeDir(dir);
  }

  /**
   * Registers `obj` under `name`; it saves into, and loads from, sub-directory `name`.
   * @throws `EXPBUF_INVALID_ARGUMENT` for a name already registered or an object without the methods
   */
  register(name: string, obj: PersistentState): void {
    if (typeof name !== 'string' || name.length === 0) throw invalid('name: expected a non-empty string');
    if (this.#objects.has(name)) throw invalid(`name: '${name}' is already registered`);
    if (typeof obj?.saveState !== 'function' || typeof obj?.loadState !== 'function') {
      throw invalid(`'${name}': needs saveState(dir) and loadState(dir)`);
    }
    this.#objects.set(name, obj);
  }

  /** Complete state directories, oldest first. */
  list(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith(SUFFIX) && existsSync(join(this.dir, f, COMPLETE_MARKER)))
      .sort()
      .map((f) => join(this.dir, f));
  }

  /**
   * Saves every registered object into a new timestamped directory, marks it complete,
   * then removes all but the newest `keep` complete states (and unfinished ones older
   * than the newest). Resolves to the new directory.
   */
  async save(): Promise<string> {
    let t = now();
    let path = join(this.dir, stamp(t) + SUFFIX);
    while (existsSync(path)) path = join(this.dir, stamp(++t) + SUFFIX);
    native.makeDir(path);
    for (const [name, obj] of this.#objects) await obj.saveState(join(path, entryDir(name)));
    // The marker goes last, durably: its presence means every part above is on disk.
    await writeFileDurably(join(path, COMPLETE_MARKER), `${new Date(t).toISOString()}\n`);
    await native.syncDir(this.dir);
    this.#lastSave = now();
    this.#prune(path);
    return path;
  }

  #prune(newest: string): void {
    const complete = this.list();
    const keepSet = new Set(complete.slice(-this.keep));
    for (const f of readdirSync(this.dir)) {
      const p = join(this.dir, f);
      if (!f.endsWith(SUFFIX) || keepSet.has(p) || p === newest) continue;
      // Unfinished directories newer than the newest complete one may be being written.
      if (!existsSync(join(p, COMPLETE_MARKER)) && p > newest) continue;
      rmSync(p, { recursive: true, force: true });
    }
  }

  /** Whether `saveInterval` ms have passed since the last save (or none was made). */
  isSaveDue(): boolean {
    return now() - this.#lastSave >= this.saveInterval;
  }

  /** Saves if due; resolves to the new directory, or undefined. */
  async saveIfDue(): Promise<string | undefined> {
    return this.isSaveDue() ? this.save() : undefined;
  }

  /**
   * Loads every registered object from the newest complete state; resolves to its
   * directory, or undefined when there is none.
   */
  async loadLatest(): Promise<string | undefined> {
    const latest = this.list().pop();
    if (latest === undefined) return undefined;
    await this.load(latest);
    return latest;
  }

  /** Loads every registered object from state directory `path`. */
  async load(path: string): Promise<void> {
    if (!existsSync(join(path, COMPLETE_MARKER))) {
      throw new ExpbufError('EXPBUF_CORRUPT_STATE', `${path}: not a complete state (no ${COMPLETE_MARKER} marker)`);
    }
    for (const [name, obj] of this.#objects) await obj.loadState(join(path, entryDir(name)));
    this.#lastSave = now();
  }
}
