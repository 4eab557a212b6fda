/**
 * `ReplayBuffer`: trains from a pool, as the seed's MongoBuffer / DaskBuffer. Whole
 * episodes are loaded into a native SequentialBuffer; transitions and episodes are
 * drawn from it with the episode boundaries kept beside it (next states are the next
 * rows, never stored twice, and never taken across a boundary).
 */
import { SequentialBuffer } from '../buffers/sequential.js';
import { ExpbufError } from '../errors.js';
import { randomUUID } from 'node:crypto';
import { now } from '../clock.js';
import { concatItems, encodeItems, poolLayout, storedItem, type ItemInput, type PoolQuery, type StoredItem } from '../pool/items.js';
import type { Pool } from '../pool/pool.js';
import { Rng } from '../../reference/rng.js';
import type { Layout, Schema, TypedArray, TypedField } from '../schema.js';
import { native } from '../native/binding.js';
import { NATIVE } from '../buffers/native-buffer.js';

export interface ReplayBufferOptions<S extends Schema> {
  /** Where episodes are stored and loaded from; `close()` closes it too. */
  pool: Pool<S>;
  /** Transitions per `sample()`. */
  batchSize: number;
  /** Rows (steps) held in memory; the oldest episodes' rows go first. */
  maxSize: number;
  /** Seed of the sampling RNG; random when absent. */
  seed?: number;
}

/** `batchSize` transitions, each field row-major as float32. */
export interface TransitionBatch {
  state: Float32Array;
  action: Float32Array;
  reward: Float32Array;
  nextState: Float32Array;
  /** 1 where the step is the last of its episode. */
  done: Float32Array;
}

/** `n` episodes padded to the longest (`T` steps): `[n, T, F]` arrays plus a mask. */
export interface EpisodeBatch {
  state: Float32Array;
  action: Float32Array;
  reward: Float32Array;
  /** 1 for real steps, 0 for padding: `[n, T]`. */
  mask: Uint8Array;
  lengths: Int32Array;
  T: number;
}

/** An episode's rows: global row numbers `start .. start + length`. */
interface Span {
  start: number;
  length: number;
}

const closer = new FinalizationRegistry<{ pool: Pool<Schema>; close: () => void }>((held) => {
  // The user forgot close(): release the native rows and the pool's connection or lock.
  held.close();
  void held.pool.close().catch(() => undefined);
});

function float32(a: TypedArray): Float32Array {
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

export class ReplayBuffer<S extends Schema> {
  readonly pool: Pool<S>;
  readonly batchSize: number;
  readonly maxSize: number;
  readonly #buffer: SequentialBuffer<S>;
  readonly #rng: Rng;
  readonly #layout: Layout;
  readonly #fields: { state: TypedField; action: TypedField; reward: TypedField };
  /** Episodes whose rows are (at least partly) held, oldest first. */
  #spans: Span[] = [];
  /** Rows ever added. */
  #total = 0;
  #closed = false;

  /**
   * @throws `EXPBUF_SCHEMA_MISMATCH` when the pool's schema lacks typed `state`,
   *   `action` or a scalar `reward`; `EXPBUF_INVALID_ARGUMENT` for bad sizes
   */
  constructor(options: ReplayBufferOptions<S>) {
    const { pool } = options;
    const layout = poolLayout(pool.schema);
    this.#layout = layout;
    const field = (name: string): TypedField => {
      const f = layout.fields.find((x) => x.name === name);
      if (f === undefined || f.kind !== 'typed') throw new ExpbufError('EXPBUF_SCHEMA_MISMATCH', `schema: a ReplayBuffer needs a typed '${name}' field`);
      return f;
    };
    this.#fields = { state: field('state'), action: field('action'), reward: field('reward') };
    if (this.#fields.reward.elements !== 1) throw new ExpbufError('EXPBUF_SCHEMA_MISMATCH', "schema: 'reward' must be a scalar field");
    this.batchSize = native.checkRows(options.batchSize, 'batchSize');
    this.pool = pool;
    this.maxSize = options.maxSize;
    this.#buffer = new SequentialBuffer(pool.schema, options.maxSize);
    this.#rng = new Rng(options.seed ?? Math.floor(Math.random() * 2 ** 53));
    const buffer = this.#buffer;
    closer.register(this, { pool: pool as unknown as Pool<Schema>, close: () => buffer.close() }, this);
  }

  #check(): void {
    if (this.#closed) throw new ExpbufError('EXPBUF_CLOSED', 'replay buffer: closed');
  }

  /** Rows held. */
  get size(): number {
    return this.#buffer.size;
  }

  /** Episodes (and records) whose rows are all held. */
  get episodes(): number {
    const first = this.#total - this.#buffer.size;
    return this.#spans.filter((s) => s.start >= first).length;
  }

  /** Adds items' rows, in one native call, and their spans. */
  #add(items: StoredItem<S>[]): number {
    const { rows, columns } = concatItems(this.#layout, items);
    if (rows === 0) return 0;
    this.#buffer.addBatch(columns as never);
    for (const it of items) {
      const length = it.kind === 'episode' ? it.seqLen : 1;
      this.#spans.push({ start: this.#total, length });
      this.#total += length;
    }
    const first = this.#total - this.#buffer.size;
    let drop = 0;
    while (drop < this.#spans.length && this.#spans[drop].start + this.#spans[drop].length <= first) drop++;
    if (drop > 0) this.#spans = this.#spans.slice(drop);
    return rows;
  }

  /**
   * Streams the items matching `query` from the pool into memory, a page at a time
   * (records count as one-step episodes). Resolves to the rows loaded.
   */
  async load(query?: PoolQuery, options: { pageSize?: number } = {}): Promise<number> {
    this.#check();
    let rows = 0;
    for await (const page of this.pool.iterate(query, options)) rows += this.#add(page);
    return rows;
  }

  /** Stores an episode in the pool (durably) and in memory; resolves to its id. */
  async store(item: ItemInput<S>): Promise<string> {
    this.#check();
    // Encode here first: the id is fixed before the pool sees the item.
    const [encoded] = encodeItems(this.#layout, [item], now(), randomUUID);
    await this.pool.store([{ ...item, id: encoded.summary.id }]);
    const bytes = new Uint8Array(encoded.columns.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of encoded.columns) {
      bytes.set(c, at);
      at += c.length;
    }
    this.#add([storedItem<S>(this.#layout, encoded.summary, bytes, 0)]);
    return encoded.summary.id;
  }

  /** The pool's items matching `query`. */
  find(query?: PoolQuery): Promise<StoredItem<S>[]> {
    this.#check();
    return this.pool.find(query);
  }

  /**
   * `batchSize` transitions drawn uniformly from the rows held.
   * @throws `EXPBUF_EMPTY` when nothing is loaded
   */
  sample(): TransitionBatch {
    this.#check();
    const size = this.#buffer.size;
    if (size === 0) throw new ExpbufError('EXPBUF_EMPTY', 'sample: nothing loaded (call load() or store())');
    const first = this.#total - size;
    const k = this.batchSize;
    const at = new Uint32Array(k);
    const next = new Uint32Array(k);
    const done = new Float32Array(k);
    for (let b = 0; b < k; b++) {
      const g = first + this.#rng.below(size);
      const span = this.#spanOf(g);
      const last = g + 1 === span.start + span.length;
      at[b] = g - first;
      next[b] = (last ? g : g + 1) - first;
      done[b] = last ? 1 : 0;
    }
    const now = this.#gather(at);
    const after = this.#gather(next);
    return {
      state: float32(now.state),
      action: float32(now.action),
      reward: float32(now.reward),
      nextState: float32(after.state),
      done,
    };
  }

  /** The span holding global row `g` (binary search over the spans, oldest first). */
  #spanOf(g: number): Span {
    let lo = 0;
    let hi = this.#spans.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#spans[mid].start <= g) lo = mid;
      else hi = mid - 1;
    }
    return this.#spans[lo];
  }

  #gather(indices: Uint32Array): { state: TypedArray; action: TypedArray; reward: TypedArray } {
    const buffers = native.bufferGather(this.#buffer[NATIVE], indices);
    const out: Record<string, TypedArray> = {};
    this.#layout.typed.forEach((f, i) => (out[f.name] = new f.ctor(buffers[i])));
    return out as { state: TypedArray; action: TypedArray; reward: TypedArray };
  }

  /**
   * `n` whole episodes drawn uniformly (with replacement) from those fully held,
   * padded to the longest.
   * @throws `EXPBUF_EMPTY` when no whole episode is held; `EXPBUF_INVALID_ARGUMENT` for a bad `n`
   */
  sampleEpisodes(n: number): EpisodeBatch {
    this.#check();
    native.checkRows(n, 'n');
    const first = this.#total - this.#buffer.size;
    const whole = this.#spans.filter((s) => s.start >= first);
    if (whole.length === 0) throw new ExpbufError('EXPBUF_EMPTY', 'sampleEpisodes: no whole episode is loaded');
    const chosen = Array.from({ length: n }, () => whole[this.#rng.below(whole.length)]);
    const T = Math.max(...chosen.map((s) => s.length));
    const rows = chosen.reduce((a, s) => a + s.length, 0);
    const indices = new Uint32Array(rows);
    let r = 0;
    for (const s of chosen) for (let t = 0; t < s.length; t++) indices[r++] = s.start + t - first;
    const got = this.#gather(indices);
    const { state: fs, action: fa } = this.#fields;
    const out: EpisodeBatch = {
      state: new Float32Array(n * T * fs.elements),
      action: new Float32Array(n * T * fa.elements),
      reward: new Float32Array(n * T),
      mask: new Uint8Array(n * T),
      lengths: Int32Array.from(chosen.map((s) => s.length)),
      T,
    };
    r = 0;
    chosen.forEach((s, e) => {
      out.state.set(got.state.subarray(r * fs.elements, (r + s.length) * fs.elements), e * T * fs.elements);
      out.action.set(got.action.subarray(r * fa.elements, (r + s.length) * fa.elements), e * T * fa.elements);
      out.reward.set(got.reward.subarray(r, r + s.length), e * T);
      out.mask.fill(1, e * T, e * T + s.length);
      r += s.length;
    });
    return out;
  }

  /** Releases the rows held and closes the pool. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    closer.unregister(this);
    this.#buffer.close();
    await this.pool.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
