import type { DataBuffer } from '../buffers/data-buffer.js';
import { join } from 'node:path';
import { ExpbufError } from '../errors.js';
import { entryDir, saveStaged } from '../state.js';
import type { DataCollector } from './collector.js';
import { DataUser, type DataUserOptions } from './user.js';

/** Collectors by name; each may be acquired once, by the component that collects into it. */
export class DataCollectorsDict extends Map<string, DataCollector<object>> {
  readonly #acquired = new Set<string>();

  /**
   * Takes the collector `name` for the caller.
   * @throws `EXPBUF_NOT_FOUND` for an unknown name, `EXPBUF_ALREADY_ACQUIRED` for a second acquire
   */
  acquire<T extends object = Record<string, unknown>>(name: string): DataCollector<T> {
    const c = this.get(name);
    if (c === undefined) {
      throw new ExpbufError('EXPBUF_NOT_FOUND', `name: no data collector '${name}' (have ${[...this.keys()].join(', ') || 'none'})`);
    }
    if (this.#acquired.has(name)) {
      throw new ExpbufError('EXPBUF_ALREADY_ACQUIRED', `name: data collector '${name}' is already acquired`);
    }
    this.#acquired.add(name);
    return c as unknown as DataCollector<T>;
  }
}

/** Data users by name, with the dict of their collectors. */
export class DataUsersDict extends Map<string, DataUser<object, unknown>> {
  readonly #collectors = new DataCollectorsDict();

  /** The collectors of every user in this dict, by the same names. */
  get dataCollectorsDict(): DataCollectorsDict {
    return this.#collectors;
  }

  override set(name: string, user: DataUser<object, unknown>): this {
    super.set(name, user);
    this.#collectors?.set(name, user.collector);
    return this;
  }

  /** Saves every user into its own sub-directory of `dir` (the name, URI-encoded), atomically as a whole. */
  async saveState(dir: string): Promise<void> {
    await saveStaged(dir, async (staged) => {
      for (const [name, user] of this) await user.writeState(join(staged, entryDir(name)));
    });
  }

  /**
   * Restores every user from its sub-directory of `dir`. All are read and checked
   * before any changes.
   * @throws `EXPBUF_CORRUPT_STATE` (a user missing from the state, a damaged file), `EXPBUF_SCHEMA_MISMATCH`
   */
  async loadState(dir: string): Promise<void> {
    const prepared = [];
    for (const [name, user] of this) prepared.push(await user.prepareLoad(join(dir, entryDir(name))));
    for (const p of prepared) await p.apply();
  }

  /** A user (and its collector) for each named buffer. */
  static fromDataBuffers(buffers: Record<string, DataBuffer<object, unknown>>, options: DataUserOptions = {}): DataUsersDict {
    const dict = new DataUsersDict();
    for (const [name, buffer] of Object.entries(buffers)) dict.set(name, new DataUser(buffer, options));
    return dict;
  }
}
