import type { DataBuffer } from '../buffers/data-buffer.js';
import { ExpbufError } from '../errors.js';
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

  /** A user (and its collector) for each named buffer. */
  static fromDataBuffers(buffers: Record<string, DataBuffer<object, unknown>>, options: DataUserOptions = {}): DataUsersDict {
    const dict = new DataUsersDict();
    for (const [name, buffer] of Object.entries(buffers)) dict.set(name, new DataUser(buffer, options));
    return dict;
  }
}
