import type { InspectOptions } from 'node:util';
import { join } from 'node:path';
import { DataBuffer } from '../buffers/data-buffer.js';
import { ExpbufError, invalid } from '../errors.js';
import { describe } from '../schema.js';
import { custom, show } from '../inspect.js';
import { entryDir, saveStaged } from '../state.js';
import type { DataCollector } from './collector.js';
import { DataUser, type DataUserOptions, type StepOfBuffer } from './user.js';

type AnyUser = DataUser<DataBuffer<object, unknown>>;
/** Users by name, as a type: what `DataUsersDict.get` and `Trainer.getDataUser` return. */
export type UsersOf<M extends Record<string, DataBuffer<object, unknown>>> = { [K in keyof M]: DataUser<M[K]> };
/** The collectors of a dict of users, by name. */
export type CollectorsOf<U extends Record<string, AnyUser>> = { [K in keyof U]: U[K] extends DataUser<infer B> ? DataCollector<StepOfBuffer<B>> : never };

/**
 * Collectors by name; each may be acquired once, by the component that collects into it.
 * @typeParam C - the collectors by name (their step types)
 */
export class DataCollectorsDict<C extends Record<string, DataCollector<object>> = Record<string, DataCollector<object>>> extends Map<
  string,
  DataCollector<object>
> {
  readonly #acquired = new Set<string>();

  /** An empty dict: fill it with `set`. */
  // biome-ignore lint/complexity/noUselessConstructor: it hides Map's (entries) constructor, which would skip set()'s checks
  constructor() {
    super();
  }

  /**
   * Takes the collector `name` for the caller.
   * @throws `EXPBUF_NOT_FOUND` for an unknown name, `EXPBUF_ALREADY_ACQUIRED` for a second acquire
   */
  acquire<K extends keyof C & string>(name: K): C[K] {
    const c = this.get(name);
    if (c === undefined) {
      throw new ExpbufError('EXPBUF_NOT_FOUND', `name: no data collector '${name}' (have ${[...this.keys()].join(', ') || 'none'})`);
    }
    if (this.#acquired.has(name)) {
      throw new ExpbufError('EXPBUF_ALREADY_ACQUIRED', `name: data collector '${name}' is already acquired`);
    }
    this.#acquired.add(name);
    return c as C[K];
  }

  [custom](depth: number, options: InspectOptions): string {
    return show('DataCollectorsDict', { names: [...this.keys()], acquired: [...this.#acquired] }, depth, options);
  }
}

/**
 * Data users by name, with the dict of their collectors.
 * @typeParam U - the users by name (their buffer types)
 */
export class DataUsersDict<U extends Record<string, AnyUser> = Record<string, AnyUser>> extends Map<string, AnyUser> {
  readonly #collectors = new DataCollectorsDict<CollectorsOf<U>>();

  /** The collectors of every user in this dict, by the same names. */
  get dataCollectorsDict(): DataCollectorsDict<CollectorsOf<U>> {
    return this.#collectors;
  }

  /** The user `name`, typed by the dict's users. */
  override get<K extends keyof U & string>(name: K): U[K] | undefined {
    return super.get(name) as U[K] | undefined;
  }

  /** An empty dict: fill it with `set`, or use `fromDataBuffers`. */
  // biome-ignore lint/complexity/noUselessConstructor: it hides Map's (entries) constructor, which would skip set()'s checks
  constructor() {
    super();
  }

  /** Adds `user`, and its collector to `dataCollectorsDict` under the same name. */
  override set(name: string, user: AnyUser): this {
    super.set(name, user);
    this.#collectors.set(name, user.collector);
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
  static fromDataBuffers<const M extends Record<string, DataBuffer<object, unknown>>>(buffers: M, options?: DataUserOptions): DataUsersDict<UsersOf<M>> {
    if (typeof buffers !== 'object' || buffers === null) throw invalid(`buffers: expected an object of buffers by name, got ${describe(buffers)}`);
    const dict = new DataUsersDict<UsersOf<M>>();
    for (const [name, buffer] of Object.entries(buffers)) {
      if (!(buffer instanceof DataBuffer)) throw invalid(`buffers.${name}: expected a DataBuffer (a native buffer or your subclass), got ${describe(buffer)}`);
      dict.set(name, new DataUser(buffer, options));
    }
    return dict;
  }

  [custom](depth: number, options: InspectOptions): string {
    return show('DataUsersDict', Object.fromEntries(this), depth, options);
  }
}
