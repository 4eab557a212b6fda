import type { Schema } from '../schema.js';
import type { ItemInput, IterateOptions, PoolQuery, StoredItem } from './items.js';

/**
 * Persistent, queryable episodes and records of one schema. Every backend (embedded,
 * PostgreSQL) offers these verbs with the same rules (`items.ts`).
 */
export interface Pool<S extends Schema> {
  readonly schema: S;
  /**
   * Stores items, all or none; resolves to their ids once they are durable.
   * @throws `EXPBUF_SCHEMA_MISMATCH` for steps of other fields; `EXPBUF_BAD_VALUE`;
   *   `EXPBUF_INVALID_ARGUMENT` for an id already stored
   */
  store(items: ItemInput<S>[]): Promise<string[]>;
  /** Items matching `query`, oldest stored first. */
  find(query?: PoolQuery): Promise<StoredItem<S>[]>;
  /**
   * Items matching `query`, oldest stored first, `pageSize` (default 256) at a time:
   * for reading more than should sit in memory at once. `after` skips items up to
   * that `seq` (a follower's cursor).
   */
  iterate(query?: PoolQuery, options?: IterateOptions): AsyncIterable<StoredItem<S>[]>;
  /** How many items match `query`. */
  count(query?: PoolQuery): Promise<number>;
  /** Up to `size` distinct items drawn uniformly from those matching `options.query`. */
  sample(size: number, options?: { query?: PoolQuery }): Promise<StoredItem<S>[]>;
  /** Deletes item `id`; resolves to whether it existed. */
  delete(id: string): Promise<boolean>;
  /** Closes the pool; later calls throw `EXPBUF_CLOSED`. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
