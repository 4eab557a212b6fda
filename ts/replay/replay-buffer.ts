/**
 * `ReplayBuffer`: the replay memory of off-policy RL, in memory (`schema`) or over a
 * pool (`pool`). Every rule (episode links, n-step returns, priorities, sequence
 * windows, the rate limiter) lives in `expbuf-core` (`crates/expbuf-core/src/replay/`);
 * this class shapes JS input, decodes the core's columns, and turns the rate limiter's
 * waits into promises.
 */
import { randomUUID } from 'node:crypto';
import type { InspectOptions } from 'node:util';
import { DataBuffer, LAYOUT, SINK, STATE, statePart, type NativeSink, type StatePart } from '../buffers/data-buffer.js';
import { now } from '../clock.js';
import { ExpbufError, invalid } from '../errors.js';
import { handleId, type ReplayBufferHandle } from '../handles.js';
import { custom, show } from '../inspect.js';
import { INFO, native, nativeView, slots, type FieldInfo, type ReplayInfo, type ReplayRef } from '../native/binding.js';
import { concatItems, encodeItems, poolLayout, type ItemInput, type PoolQuery, type StoredItem } from '../pool/items.js';
import type { Pool } from '../pool/pool.js';
import { bytesOf, decodeColumns, encodeBatch, rowFrom, rowsFrom } from '../rows/columns.js';
import { Stage } from '../rows/stage.js';
import { flushWriters } from '../rows/writer.js';
import {
  describe,
  layoutFromInfo,
  layoutOf,
  type BatchOf,
  type DataOf,
  type FieldBatch,
  type FieldColumn,
  type FieldSpec,
  type FieldValue,
  type Layout,
  type Schema,
  type StepOf,
  type TypedField,
} from '../schema.js';
import { Waits } from './waits.js';

/** The counter slots of a replay buffer's block. */
const C = slots(INFO.counters.replay, ['size', 'inserted', 'sampled', 'episodes'] as const);

type TypedSpec = Exclude<FieldSpec, 'any'>;
/** A schema a replay buffer takes: typed `state` and `action`, a scalar typed `reward`, other fields riding along. */
export type ReplaySchema = Schema & { readonly state: TypedSpec; readonly action: TypedSpec; readonly reward: TypedSpec };

/** `true`/`false` or 1/0. */
export type Flag = boolean | number;

/** One step: the schema's fields, the state after it, how it ends, and its env. */
export type ReplayStep<S extends ReplaySchema> = StepOf<S> & {
  /** The state the action led to (same spec as `state`). */
  nextState: FieldValue<S['state']>;
  /** The episode ended in a terminal state: no bootstrap from `nextState`. */
  terminated: Flag;
  /** The episode was cut (a time limit): it ends here, and `nextState` bootstraps. Default false. */
  truncated?: Flag;
  /** The stream (env of a vector env) the step belongs to, an integer in [0, 2^32). Default 0. */
  env?: number;
};

/** Steps as columns (`addBatch`): one column per field, all of the same row count. */
export type ReplayColumns<S extends ReplaySchema> = BatchOf<S> & {
  nextState: FieldBatch<S['state']>;
  terminated: Uint8Array | readonly Flag[];
  truncated?: Uint8Array | readonly Flag[];
  env?: Uint32Array | readonly number[];
};

/** Every held step (`getData`), oldest first. */
export type ReplayData<S extends ReplaySchema> = DataOf<S> & {
  nextState: FieldColumn<S['state']>;
  terminated: Uint8Array;
  truncated: Uint8Array;
  env: Uint32Array;
};

type WithoutReward<S extends ReplaySchema> = { readonly [K in keyof S as K extends 'reward' ? never : K]: S[K] };

/** `sample(n)`: n-step transitions. */
export type TransitionBatch<S extends ReplaySchema> = DataOf<WithoutReward<S>> & {
  /** Σ_{k<K} γ^k r_{t+k}, K = min(nStep, steps to the episode's end). */
  reward: Float32Array;
  /** The state K steps later (the final state at an episode's end). */
  nextState: FieldColumn<S['state']>;
  /** 1 when the episode terminated within the K steps; 0 when truncated or going on. */
  done: Uint8Array;
  /** γ^K. */
  discount: Float32Array;
  /** The sampled steps' ids (for `updatePriorities`). */
  ids: Float64Array;
  /** Importance weights (N·P(i))^−β normalized to the buffer's largest; all 1 when uniform. */
  weights: Float32Array;
};

/** `sampleSequences(n, length)`: every field as `[n, length, ...shape]`, row-major. */
export type SequenceBatch<S extends ReplaySchema> = DataOf<S> & {
  /** `[n, length]`: 1 for a step, 0 for padding after its episode's end (or newest step). */
  mask: Uint8Array;
  /** Each window's first step. */
  ids: Float64Array;
  n: number;
  length: number;
};

/** `sampleEpisodes(n)`: whole episodes padded to the longest (`T` steps): every field as `[n, T, ...shape]`. */
export type EpisodeBatch<S extends ReplaySchema> = DataOf<S> & {
  /** `[n, T]`: 1 for a step, 0 for padding. */
  mask: Uint8Array;
  lengths: Int32Array;
  /** 1 where the episode terminated, 0 where it was truncated. */
  terminated: Uint8Array;
  /** `[n, ...state]`: the state after each episode's last step. */
  finalState: FieldColumn<S['state']>;
  n: number;
  T: number;
};

/** Prioritized replay (Schaul et al. 2016, proportional). */
export interface PriorityOptions {
  /** Exponent of priorities, ≥ 0 (default 0.6; 0 is uniform). */
  alpha?: number;
  /** Importance-weight exponent in [0, 1] (default 0.4); settable later as `rb.beta`. */
  beta?: number;
  /** Added to |priority|, > 0 (default 1e-6), so no step is never drawn. */
  epsilon?: number;
}

/** Reverb's SampleToInsertRatio: see `ReplayBuffer.canSample`. */
export interface RateLimitOptions {
  /** Steps inserted before the first sample, a positive integer. */
  minSize: number;
  /** Sampled steps per inserted step, > 0. */
  samplesPerInsert: number;
  /** Slack in sampled steps, at least (samplesPerInsert + batchSize) / 2 (so neither side can stall). */
  tolerance: number;
}

interface Settings {
  /** Most steps held; the oldest go first. */
  maxSize: number;
  /** Default `n` of `sample()` (default 256). */
  batchSize?: number;
  /** RNG seed, an integer in [0, 2^53); random when absent. */
  seed?: number;
  /** Steps summed into a return, an integer ≥ 1 (default 1). */
  nStep?: number;
  /** Discount in [0, 1] (default 0.99). */
  gamma?: number;
  /** Absent: uniform sampling. */
  priority?: PriorityOptions;
  /** Absent: no limit. */
  rateLimit?: RateLimitOptions;
}

export type ReplayBufferOptions<S extends ReplaySchema> = Settings &
  (
    | { /** The fields of a step. */ schema: S; pool?: undefined }
    | { /** Durable episodes: `load(query)` / `store(episode)`; `close()` closes it too. */ pool: Pool<S>; schema?: undefined }
  );

/** Options of the waits: `timeoutMs` (absent: wait as long as it takes). */
export interface WaitOptions {
  timeoutMs?: number;
}

/** `stats`, read from shared counters without a native call. */
export interface ReplayStats {
  /** Steps held. */
  size: number;
  /** Steps inserted, as the rate limiter counts them (from creation or `clear()`). */
  inserted: number;
  /** Steps sampled, as the rate limiter counts them. */
  sampled: number;
  /** Complete episodes held whole. */
  episodes: number;
}

const closer = new FinalizationRegistry<{ pool: Pool<Schema>; ref: ReplayRef }>((held) => {
  // The user forgot close(): release the native rows and the pool's connection or lock.
  native.replayClose(held.ref);
  void held.pool.close().catch(() => undefined);
});

/** The native buffer `fromHandle` attached, for the constructor it calls. */
let attaching: ReplayRef | undefined;

/** A field list the core described, as a schema object. */
function schemaOf(info: readonly FieldInfo[]): Schema {
  return Object.fromEntries(info.map((f) => [f.name, f.dtype === undefined ? 'any' : { dtype: f.dtype, shape: f.shape ?? [] }]));
}

/** The native replay buffer of `options` (or the attached one), its description, and the schema's layout. */
function open<S extends ReplaySchema>(options: ReplayBufferOptions<S>): { ref: ReplayRef; info: ReplayInfo; fields: Layout } {
  if (attaching !== undefined) {
    const ref = attaching;
    const info = native.replayDescribe(ref);
    return { ref, info, fields: layoutFromInfo(info.fields) };
  }
  if (typeof options !== 'object' || options === null) throw invalid(`options: expected an object with schema or pool, got ${describe(options)}`);
  const { schema, pool } = options as { schema?: unknown; pool?: Pool<S> };
  if ((schema === undefined) === (pool === undefined)) throw invalid('options: give schema (in memory) or pool (durable episodes), exactly one');
  const fields = pool === undefined ? layoutOf(schema as Schema) : poolLayout(pool.schema);
  const ref = native.replayNew(fields.info, { ...options, schema: undefined, pool: undefined });
  return { ref, info: native.replayDescribe(ref), fields };
}

/**
 * The replay memory of off-policy RL. A step is the schema's fields plus `nextState`,
 * `terminated`, `truncated` and `env`; steps of different envs may interleave, the
 * steps of one env arrive in time order, and a step with `terminated || truncated`
 * ends its episode. Each state is stored once (a step's `nextState` is the next step's
 * `state`; only an episode's final state is kept beside the rows).
 *
 * Feed it with `add`, `addBatch`, or `new DataUser(rb)` (collectors in any thread);
 * train with `sample`, `sampleSequences`, `sampleEpisodes`; pace both sides with the
 * rate limiter (`canSample`, `sampleAsync`, `canInsert`, `insertAllowed`).
 *
 * @typeParam S - the schema of a step's own fields
 */
export class ReplayBuffer<const S extends ReplaySchema> extends DataBuffer<ReplayStep<S>, ReplayData<S>> implements NativeSink {
  /** The fields of a step besides `nextState`, `terminated`, `truncated`, `env`. */
  readonly schema: S;
  /** The pool episodes are stored in and loaded from (absent in memory). */
  readonly pool: Pool<S> | undefined;
  /** Default `n` of `sample()`. */
  readonly batchSize: number;
  readonly nStep: number;
  readonly gamma: number;
  /** The priority settings (`beta` as given; the one in force is `rb.beta`); absent when uniform. */
  readonly priority: Readonly<Required<PriorityOptions>> | undefined;
  readonly rateLimit: Readonly<RateLimitOptions> | undefined;
  readonly #ref: ReplayRef;
  readonly #counters: Float64Array;
  readonly #stage: Stage;
  readonly #waits: Waits;
  /** The schema's own fields, and the columns of each output. */
  readonly #fields: Layout;
  readonly #sampled: Layout;
  readonly #sequences: Layout;
  readonly #episodes: Layout;
  /** Bytes of one state. */
  readonly #stateBytes: number;
  #closed = false;

  /**
   * @throws `EXPBUF_INVALID_ARGUMENT` for a bad or unknown option (named), both or neither
   *   of `schema` and `pool`; `EXPBUF_SCHEMA_MISMATCH` for a schema without typed `state`
   *   and `action` or a scalar typed `reward`, or with a field named as a step's own
   */
  constructor(options: ReplayBufferOptions<S>) {
    const made = open(options);
    super(made.info.stepFields as unknown as Schema, made.info.maxSize);
    const { ref, info } = made;
    this.#ref = ref;
    this.#fields = made.fields;
    this.#sampled = layoutFromInfo(info.sampleFields);
    this.#sequences = layoutFromInfo(info.sequenceFields);
    this.#episodes = layoutFromInfo(info.episodeFields);
    const state = made.fields.typed.find((f) => f.name === 'state') as TypedField;
    this.#stateBytes = state.elements * state.ctor.BYTES_PER_ELEMENT;
    this.schema = schemaOf(info.fields) as S;
    this.pool = attaching === undefined ? options.pool : undefined;
    this.batchSize = info.batchSize;
    this.nStep = info.nStep;
    this.gamma = info.gamma;
    this.priority = info.priority && { ...info.priority };
    this.rateLimit = info.rateLimit && { ...info.rateLimit };
    this.#counters = nativeView(Float64Array, native.replayCounters(ref));
    this.#waits = new Waits(ref);
    this.#stage = new Stage(this[LAYOUT], () => {
      const { stage, ring } = native.replayStage(ref);
      return { ring, flush: (tail, bytes, offsets) => void native.replayFlush(ref, stage, tail, bytes, offsets) };
    });
    if (this.pool !== undefined) closer.register(this, { pool: this.pool as unknown as Pool<Schema>, ref }, this);
  }

  /**
   * The replay buffer behind `handle` (from `handle()` in any thread), in this thread:
   * the same steps, priorities and rate limiter (its pool stays with the thread that has it).
   * @throws `EXPBUF_INVALID_ARGUMENT` for a bad handle; `EXPBUF_CLOSED` once no thread holds it
   */
  static fromHandle<const S extends ReplaySchema>(handle: ReplayBufferHandle<ReplayBuffer<S>>): ReplayBuffer<S> {
    attaching = native.replayAttach(handleId(handle, 'expbuf.replay'));
    try {
      return new ReplayBuffer<S>({ schema: {} as S, maxSize: 1 });
    } finally {
      attaching = undefined;
    }
  }

  /** A structured-cloneable handle for `postMessage` (see `fromHandle`). */
  handle(): ReplayBufferHandle<this> {
    this.#sync();
    return { kind: 'expbuf.replay', id: native.replayId(this.#ref) };
  }

  /** @internal The native buffer, with this thread's staged steps applied. */
  get [SINK](): ReplayRef {
    this.#sync();
    return this.#ref;
  }

  /** @internal This buffer's part of a composite state. */
  get [STATE](): StatePart {
    const ref = this.#ref;
    return statePart(
      () => this.#sync(),
      (dir) => native.replayWrite(ref, dir),
      (dir) => native.replayPrepareLoad(ref, dir),
      (prepared) => native.replayApplyLoad(ref, prepared),
    );
  }

  /** Throws `EXPBUF_CLOSED` once closed; applies this thread's staged steps. */
  #sync(): void {
    if (this.#closed) throw new ExpbufError('EXPBUF_CLOSED', 'replay buffer: closed');
    flushWriters();
  }

  /**
   * Adds one step; it reaches the buffer (and the samplers of every thread) at the
   * latest when this thread returns to its event loop, and before any read of this object.
   * @throws `EXPBUF_MISSING_FIELD` (e.g. no `nextState` or `terminated`), `EXPBUF_UNKNOWN_FIELD`,
   *   `EXPBUF_BAD_VALUE` (e.g. a `nextState` of another shape, a negative or fractional `env`);
   *   the buffer is then unchanged
   */
  add(step: ReplayStep<S>): void {
    if (this.#closed) throw new ExpbufError('EXPBUF_CLOSED', 'replay buffer: closed');
    this.#stage.put(step);
  }

  /**
   * Adds steps given as columns (e.g. one step of every env of a vector env, with
   * `env` telling them apart), in one native call; all or none.
   */
  addBatch(columns: ReplayColumns<S>): void {
    this.#sync();
    const e = encodeBatch(this[LAYOUT], columns);
    native.replayAddBatch(this.#ref, e.rows, e.typed, e.anyBytes, e.anyOffsets);
  }

  /**
   * `n` n-step transitions (see `TransitionBatch`), drawn by priority or uniformly;
   * none crosses an episode or an env.
   * @throws `EXPBUF_EMPTY` when no step can be sampled yet (a step can once its n-step
   *   window is known); `EXPBUF_RATE_LIMITED` when the rate limiter refuses (nothing drawn)
   */
  sample(n: number = this.batchSize): TransitionBatch<S> {
    this.#sync();
    return decodeColumns(this.#sampled, native.replaySample(this.#ref, n)).data as TransitionBatch<S>;
  }

  /**
   * `sample(n)` once the rate limiter allows it, waiting without blocking the event
   * loop for inserts from any thread.
   * @throws `EXPBUF_RATE_LIMITED` after `timeoutMs`; `EXPBUF_CLOSED` if closed meanwhile
   */
  async sampleAsync(n: number = this.batchSize, options?: WaitOptions): Promise<TransitionBatch<S>> {
    this.#sync();
    const timeoutMs = native.replayWaitOptions(options);
    native.checkRows(n, 'batchSize');
    const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
    for (;;) {
      const left = deadline === undefined ? undefined : Math.max(0, deadline - performance.now());
      await this.#waits.until(n, left, 'sampleAsync');
      try {
        return this.sample(n);
      } catch (e) {
        // Another thread sampled first: wait again.
        if (!(e instanceof ExpbufError && (e.code === 'EXPBUF_RATE_LIMITED' || e.code === 'EXPBUF_EMPTY'))) throw e;
      }
    }
  }

  /**
   * Whether `sample(n)` would succeed now: a step can be sampled and, with I steps
   * inserted and S sampled, I ≥ minSize and S + n ≤ samplesPerInsert · (I − minSize) + tolerance.
   */
  canSample(n: number = this.batchSize): boolean {
    this.#sync();
    return native.replayCanSample(this.#ref, n);
  }

  /**
   * Whether an insert keeps the sample-to-insert ratio within the tolerance:
   * samplesPerInsert · (I + 1 − minSize) − S ≤ tolerance. Inserts are never refused;
   * this lets an agent slow down.
   */
  canInsert(): boolean {
    this.#sync();
    return native.replayCanInsert(this.#ref);
  }

  /**
   * Resolves once `canInsert()` holds (samples on any thread make room).
   * @throws `EXPBUF_RATE_LIMITED` after `timeoutMs`; `EXPBUF_CLOSED` if closed meanwhile
   */
  async insertAllowed(options?: WaitOptions): Promise<void> {
    this.#sync();
    await this.#waits.until(undefined, native.replayWaitOptions(options), 'insertAllowed');
  }

  /**
   * Sets the priority of each step `ids[i]` to |priorities[i]| + ε; ids of steps
   * overwritten since they were sampled are ignored. All are checked first.
   * @returns how many priorities were set
   * @throws `EXPBUF_INVALID_ARGUMENT` for mismatched lengths, a negative, NaN or infinite
   *   priority, an id this buffer never gave, or a buffer without priorities
   */
  updatePriorities(ids: Float64Array | readonly number[], priorities: Float32Array | Float64Array | readonly number[]): number {
    this.#sync();
    const f64 = (a: unknown): unknown => (Array.isArray(a) ? Float64Array.from(a as number[]) : a);
    return native.replayUpdatePriorities(this.#ref, f64(ids), f64(priorities));
  }

  /** The importance-weight exponent in force (undefined when uniform). */
  get beta(): number | undefined {
    this.#sync();
    return this.priority === undefined ? undefined : native.replayBeta(this.#ref);
  }

  /**
   * Sets β (annealed toward 1 during training), for every thread's samples.
   * @throws `EXPBUF_INVALID_ARGUMENT` outside [0, 1] or without priorities
   */
  set beta(value: number | undefined) {
    this.#sync();
    native.replayBeta(this.#ref, value ?? Number.NaN);
  }

  /**
   * `n` windows of `length` consecutive steps of one episode each, from uniformly drawn
   * start steps; a window that reaches its episode's end is padded (mask 0). Counts
   * `n × length` sampled steps for the rate limiter.
   * @throws `EXPBUF_INVALID_ARGUMENT` for `length` 0 or more than `maxSize`; `EXPBUF_EMPTY`; `EXPBUF_RATE_LIMITED`
   */
  sampleSequences(n: number, length: number): SequenceBatch<S> {
    this.#sync();
    const data = decodeColumns(this.#sequences, native.replaySampleSequences(this.#ref, n, length)).data;
    return { ...data, n, length } as SequenceBatch<S>;
  }

  /**
   * `n` complete episodes held whole, drawn uniformly (with replacement), padded to the longest.
   * @throws `EXPBUF_EMPTY` when no whole episode is held
   */
  sampleEpisodes(n: number): EpisodeBatch<S> {
    this.#sync();
    const { T, outputs } = native.replaySampleEpisodes(this.#ref, n);
    return { ...decodeColumns(this.#episodes, outputs).data, n, T } as EpisodeBatch<S>;
  }

  /** Every held step, oldest first, as columns. */
  getData(): ReplayData<S> {
    this.#sync();
    return decodeColumns(this[LAYOUT], native.replayGetData(this.#ref)).data as ReplayData<S>;
  }

  /**
   * Held step `index` (0 = oldest) as a step object.
   * @throws `EXPBUF_INVALID_ARGUMENT` for an index outside [0, size)
   */
  get(index: number): ReplayStep<S> {
    this.#sync();
    return rowFrom(this[LAYOUT], native.replayGet(this.#ref, index)) as ReplayStep<S>;
  }

  /** Every held step, oldest first, as step objects (one copy, one native call). */
  [Symbol.iterator](): IterableIterator<ReplayStep<S>> {
    this.#sync();
    return rowsFrom(this[LAYOUT], native.replayGetData(this.#ref)) as IterableIterator<ReplayStep<S>>;
  }

  /** Removes every step; the rate limiter counts from zero, and ids given before are never held again. */
  clear(): void {
    this.#sync();
    native.replayClear(this.#ref);
  }

  /** Steps held. */
  get size(): number {
    this.#sync();
    return this.#counters[C.size];
  }

  /** Steps held, inserted and sampled, and complete episodes held, without a native call. */
  get stats(): ReplayStats {
    this.#sync();
    const c = this.#counters;
    return { size: c[C.size], inserted: c[C.inserted], sampled: c[C.sampled], episodes: c[C.episodes] };
  }

  /**
   * Saves the steps, final states, episode links, priorities (and the sum-tree's max
   * priority), the rate limiter's counts and the RNG into `dir`: a `manifest.json` and
   * numpy `.npy` files, crash-safe like every state (written aside, fsynced, swapped in).
   * @throws `EXPBUF_IO` when the file system fails
   */
  override async saveState(dir: string): Promise<void> {
    this.#sync();
    await native.replaySave(this.#ref, dir);
  }

  /**
   * Replaces everything with the state saved in `dir`, checked whole before anything
   * changes; the same seed then draws what the saved buffer would have.
   * @throws `EXPBUF_CORRUPT_STATE` naming the file; `EXPBUF_SCHEMA_MISMATCH` for other fields or settings
   */
  override async loadState(dir: string): Promise<void> {
    await (await this[STATE].prepare(dir)).apply();
  }

  /** The pool; throws unless this buffer has one. */
  #pool(what: string): Pool<S> {
    this.#sync();
    if (this.pool === undefined) throw invalid(`${what}: this ReplayBuffer has no pool (options.pool)`);
    return this.pool;
  }

  /** Items' steps into the buffer, in one native call (a record is a one-step terminated episode). */
  #addItems(items: StoredItem<S>[]): number {
    if (items.length === 0) return 0;
    const layout = this.#fields;
    const { rows, columns } = concatItems(layout, items);
    const typed = layout.typed.map((f) => bytesOf(columns[f.name], rows * f.elements));
    const sb = this.#stateBytes;
    const finals = new Uint8Array(items.length * sb);
    const has = new Uint8Array(items.length);
    items.forEach((it, e) => {
      if (it.kind === 'episode' && it.finalState !== undefined) {
        finals.set(bytesOf(it.finalState, it.finalState.length), e * sb);
        has[e] = 1;
      }
    });
    const lengths = Uint32Array.from(items, (it) => (it.kind === 'episode' ? it.seqLen : 1));
    const terminated = Uint8Array.from(items, (it) => (it.kind === 'episode' && !it.terminated ? 0 : 1));
    native.replayAddEpisodes(this.#ref, rows, typed, undefined, undefined, lengths, terminated, finals, has);
    return rows;
  }

  /**
   * Streams the pool's items matching `query` into memory, a page at a time (records
   * count as one-step episodes); the oldest steps go first once `maxSize` is reached.
   * @returns the steps loaded
   */
  async load(query?: PoolQuery, options: { pageSize?: number } = {}): Promise<number> {
    const pool = this.#pool('load');
    let rows = 0;
    for await (const page of pool.iterate(query, options)) {
      this.#sync();
      rows += this.#addItems(page);
    }
    return rows;
  }

  /**
   * Stores an episode (or record) in the pool, durably, then in memory.
   * @returns its id
   * @throws as `Pool.store`; the buffer is unchanged when the pool refuses
   */
  async store(item: ItemInput<S>): Promise<string> {
    const pool = this.#pool('store');
    // Encoded (and checked) here first: the id is fixed before the pool sees the item.
    const [encoded] = encodeItems(this.#fields, [item], now(), randomUUID);
    await pool.store([{ ...item, id: encoded.summary.id }]);
    this.#sync();
    const { summary, columns } = encoded;
    const k = this.#fields.typed.length;
    const final = summary.final === true;
    native.replayAddEpisodes(
      this.#ref,
      summary.rows,
      columns.slice(0, k),
      undefined,
      undefined,
      Uint32Array.of(summary.rows),
      Uint8Array.of(summary.terminated === false ? 0 : 1),
      final ? columns[k] : new Uint8Array(this.#stateBytes),
      Uint8Array.of(final ? 1 : 0),
    );
    return summary.id;
  }

  /** The pool's items matching `query`. */
  find(query?: PoolQuery): Promise<StoredItem<S>[]> {
    return this.#pool('find').find(query);
  }

  /**
   * Releases this thread's hold on the steps (other threads' objects keep them),
   * rejects this object's pending waits with `EXPBUF_CLOSED`, and closes the pool.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    flushWriters();
    this.#closed = true;
    this.#waits.close();
    native.replayClose(this.#ref);
    if (this.pool !== undefined) {
      closer.unregister(this);
      await this.pool.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What printing shows: size / maxSize, fields, settings. */
  [custom](depth: number, options: InspectOptions): string {
    if (this.#closed) return show('ReplayBuffer', { closed: true }, depth, options);
    const shown: Record<string, unknown> = { ...this.stats, maxSize: this.maxSize, fields: this.#fields.summary, nStep: this.nStep, gamma: this.gamma };
    if (this.priority) shown.priority = { ...this.priority, beta: this.beta };
    if (this.rateLimit) shown.rateLimit = this.rateLimit;
    if (this.pool) shown.pool = this.pool;
    return show('ReplayBuffer', shown, depth, options);
  }
}
