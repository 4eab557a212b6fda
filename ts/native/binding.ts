/**
 * The native binding's exports and their types. The addon registers exactly these
 * functions (`crates/expbuf-node/src/*.rs`, each listed in its `EXPORTS`); a test
 * checks the two lists agree. Native objects travel as opaque, type-tagged refs:
 * passing the wrong kind of ref is refused with `EXPBUF_INVALID_ARGUMENT`.
 */
import { makeError } from '../errors.js';
import type { ErrorCode } from '../error-codes.js';
import { load } from './loader.js';

declare const kind: unique symbol;
/** An opaque native object of kind `K`. */
export type Ref<K extends string> = { readonly [kind]: K };
export type BufferRef = Ref<'buffer'>;
export type StageRef = Ref<'stage'>;
export type QueueRef = Ref<'collector'>;
export type RingRef = Ref<'ring'>;
export type UserRef = Ref<'user'>;
export type PreparedRef = Ref<'prepared'>;
export type ReplayRef = Ref<'replay'>;
export type ReplayStageRef = Ref<'replay-stage'>;
export type ParquetExportRef = Ref<'parquet-export'>;
export type ParquetImportRef = Ref<'parquet-import'>;

/** An item as a Parquet dataset holds it besides its steps (the pool's item summary). */
export interface ParquetItem {
  readonly kind: 'episode' | 'record';
  readonly id: string;
  /** An episode's start time, a record's timestamp. */
  readonly time: number;
  readonly rows: number;
  /** Episodes: their end (default true). */
  readonly terminated?: boolean;
  /** Episodes: whether a final state goes with it. */
  readonly final?: boolean;
  readonly meta: Readonly<Record<string, string | number>>;
}

/** A field as the core describes it. */
export interface FieldInfo {
  readonly name: string;
  /** Absent for an `any` field. */
  readonly dtype?: 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'uint8' | 'uint16' | 'uint32';
  readonly shape?: readonly number[];
  /** A 0/1 field that also takes booleans (a replay step's `terminated`, `truncated`). */
  readonly flag?: boolean;
  /** The value a step may leave out (a replay step's `truncated`, `env`). */
  readonly default?: number;
}

/** A replay buffer as the core describes it: its settings, and the fields of what it takes and gives, each in column order. */
export interface ReplayInfo {
  readonly fields: FieldInfo[];
  readonly stepFields: FieldInfo[];
  readonly sampleFields: FieldInfo[];
  readonly sequenceFields: FieldInfo[];
  readonly episodeFields: FieldInfo[];
  readonly maxSize: number;
  readonly batchSize: number;
  readonly nStep: number;
  readonly gamma: number;
  readonly priority?: { readonly alpha: number; readonly beta: number; readonly epsilon: number };
  readonly rateLimit?: { readonly minSize: number; readonly samplesPerInsert: number; readonly tolerance: number };
}

/**
 * Native memory that JS reads and writes in place (counters, rings): an ArrayBuffer over
 * it, or on the wasm build a Uint8Array over that range of wasm memory.
 */
export type NativeBytes = ArrayBuffer | Uint8Array;

/** A typed array over `bytes` from byte `offset`, `length` elements (default: to the end). */
export function nativeView<T>(
  ctor: { new (buffer: ArrayBuffer, byteOffset: number, length: number): T; readonly BYTES_PER_ELEMENT: number },
  bytes: NativeBytes,
  offset = 0,
  length?: number,
): T {
  // On wasm the buffer is the shared wasm memory, a SharedArrayBuffer; typed arrays take either.
  const [buffer, base, byteLength] =
    bytes instanceof Uint8Array ? [bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength] : [bytes, 0, bytes.byteLength];
  return new ctor(buffer, base + offset, length ?? (byteLength - offset) / ctor.BYTES_PER_ELEMENT);
}

/** Where a ring's columns lie in its memory (bytes). */
export interface RingView {
  readonly memory: NativeBytes;
  readonly capacity: number;
  readonly columns: readonly number[];
  readonly timestamps: number;
}

/** What the core tells the TS layer once. */
export interface Info {
  readonly codes: readonly (readonly [ErrorCode, string])[];
  readonly counters: { readonly buffer: readonly string[]; readonly queue: readonly string[]; readonly replay: readonly string[] };
  readonly defaults: {
    readonly replaceProbability: number;
    readonly pageSize: number;
    readonly maxPageSize: number;
    readonly publishEvery: number;
    readonly batchSize: number;
    readonly nStep: number;
    readonly gamma: number;
    readonly alpha: number;
    readonly beta: number;
    readonly epsilon: number;
    readonly statesKept: number;
    readonly saveIntervalMs: number;
    readonly connectTimeoutMs: number;
  };
  readonly limits: {
    readonly maxRows: number;
    /** Most bytes one call returns. */
    readonly callBytes: number;
    /** Memory the preallocated columns of a buffer or queue may take. */
    readonly memoryBytes: number;
    readonly maxFieldElements: number;
    readonly maxFields: number;
    readonly maxEnvs: number;
  };
  readonly kinds: readonly string[];
  /**
   * Whether the loaded addon is the WebAssembly build (`expbuf-wasm32-wasi`, the fallback
   * where no native package fits): slower calls, and each thread loads its own instance,
   * so a handle does not cross worker threads there.
   */
  readonly wasm: boolean;
}

/** Output of a read: one ArrayBuffer per typed field, then per `any` field its bytes and u32 offsets (then times, for a drain). */
export type Outputs = ArrayBuffer[];

/** `any` columns: serialized bytes and `rows + 1` offsets, one of each per `any` field. */
export type AnyBytes = readonly Uint8Array[] | undefined;
export type AnyOffsets = readonly Uint32Array[] | undefined;

export interface Binding {
  /** Registers the error factory in this thread. */
  init(makeError: (code: ErrorCode, message: string, errno?: number, osMessage?: string) => Error): void;
  info(): Info;
  /** Checks a field declaration (names or a schema); returns the fields. */
  schema(fields: unknown): FieldInfo[];
  /** `EXPBUF_SCHEMA_MISMATCH` ("fields: `what` has […], `whose` […]") unless both declare the same fields. */
  expectSameFields(theirs: unknown, ours: unknown, what: string, whose: string): void;
  /** `EXPBUF_INVALID_ARGUMENT` unless `options` is undefined or an object whose keys are all `known` (naming the key and listing them). */
  checkOptions(options: unknown, what: string, known: readonly string[]): void;
  /** Checks a row count argument; returns it. */
  checkRows(value: unknown, name: string): number;
  replaceProbabilityFromSurvivalLength(maxSize: unknown, length: unknown): number;
  registrySize(): number;
  /** Does nothing: the benchmark's call floor. */
  noop(): void;

  bufferNew(kind: string, fields: unknown, maxSize: unknown, options: unknown): BufferRef;
  bufferAttach(id: unknown): BufferRef;
  bufferId(buffer: BufferRef): number;
  bufferDescribe(buffer: BufferRef): { kind: string; maxSize: number; replaceProbability?: number; fields: FieldInfo[] };
  bufferCounters(buffer: BufferRef): NativeBytes;
  bufferClose(buffer: BufferRef): void;
  bufferAddBatch(buffer: BufferRef, rows: number, typed: readonly Uint8Array[], anyBytes: AnyBytes, anyOffsets: AnyOffsets): void;
  bufferStage(buffer: BufferRef): { stage: StageRef; ring: RingView };
  bufferFlush(buffer: BufferRef, stage: StageRef, tail: number, anyBytes?: AnyBytes, anyOffsets?: AnyOffsets): number;
  bufferGetData(buffer: BufferRef): Outputs;
  bufferGet(buffer: BufferRef, index: unknown): Outputs;
  bufferSample(buffer: BufferRef, batchSize: unknown, options: unknown): Outputs;
  bufferSampleInto(buffer: BufferRef, options: unknown, out: readonly unknown[]): number;
  bufferClear(buffer: BufferRef): void;
  bufferSave(buffer: BufferRef, dir: unknown): Promise<void>;
  bufferWrite(buffer: BufferRef, dir: string): Promise<void>;
  bufferPrepareLoad(buffer: BufferRef, dir: unknown): Promise<PreparedRef>;
  bufferApplyLoad(buffer: BufferRef, prepared: PreparedRef): void;

  replayNew(schema: unknown, options: unknown): ReplayRef;
  replayAttach(id: unknown): ReplayRef;
  replayId(replay: ReplayRef): number;
  replayDescribe(replay: ReplayRef): ReplayInfo;
  replayCounters(replay: ReplayRef): NativeBytes;
  replayClose(replay: ReplayRef): void;
  /** Steps (rows of the step fields), all or none. */
  replayAddBatch(replay: ReplayRef, rows: number, typed: readonly Uint8Array[], anyBytes: AnyBytes, anyOffsets: AnyOffsets): void;
  /** Whole episodes: rows of the schema's fields, `lengths[e]` each; `finals` a state per episode, read where `hasFinal` is 1. */
  replayAddEpisodes(
    replay: ReplayRef,
    rows: number,
    typed: readonly Uint8Array[],
    anyBytes: AnyBytes,
    anyOffsets: AnyOffsets,
    lengths: Uint32Array,
    terminated: Uint8Array,
    finals: Uint8Array,
    hasFinal: Uint8Array,
  ): void;
  replayStage(replay: ReplayRef): { stage: ReplayStageRef; ring: RingView };
  replayFlush(replay: ReplayRef, stage: ReplayStageRef, tail: number, anyBytes?: AnyBytes, anyOffsets?: AnyOffsets): number;
  /** Columns of `sampleFields`. */
  replaySample(replay: ReplayRef, batchSize: unknown): Outputs;
  /** Columns of `sequenceFields`. */
  replaySampleSequences(replay: ReplayRef, n: unknown, length: unknown): Outputs;
  /** Columns of `episodeFields`, padded to `T` steps. */
  replaySampleEpisodes(replay: ReplayRef, n: unknown): { T: number; outputs: Outputs };
  replayUpdatePriorities(replay: ReplayRef, ids: unknown, priorities: unknown): number;
  /** Sets β when given; returns it. */
  replayBeta(replay: ReplayRef, beta?: unknown): number;
  replayCanSample(replay: ReplayRef, batchSize: unknown): boolean;
  replayCanInsert(replay: ReplayRef): boolean;
  /**
   * Whether a sample of `batchSize` (undefined: an insert) is allowed now; if not, a wait is
   * kept and `onWake` runs on this thread once a change may allow it.
   */
  replayWait(replay: ReplayRef, batchSize: number | undefined, onWake: () => void): boolean;
  /** Drops this object's waits. */
  replayCancelWaits(replay: ReplayRef): void;
  /** Checks `{ timeoutMs? }`; returns the timeout. */
  replayWaitOptions(options: unknown): number | undefined;
  /** Every held step, oldest first, as columns of `stepFields`. */
  replayGetData(replay: ReplayRef): Outputs;
  replayGet(replay: ReplayRef, index: unknown): Outputs;
  replayClear(replay: ReplayRef): void;
  replaySave(replay: ReplayRef, dir: unknown): Promise<void>;
  replayWrite(replay: ReplayRef, dir: string): Promise<void>;
  replayPrepareLoad(replay: ReplayRef, dir: unknown): Promise<PreparedRef>;
  replayApplyLoad(replay: ReplayRef, prepared: PreparedRef): void;

  /** A queue of rows of `source`: a native buffer's or replay buffer's (step) fields, or a field declaration. */
  queueNew(source: unknown, options: unknown, maxSize: number): QueueRef;
  queueAttach(id: unknown): QueueRef;
  queueId(queue: QueueRef): number;
  queueFields(queue: QueueRef): FieldInfo[];
  queueCounters(queue: QueueRef): NativeBytes;
  queueClose(queue: QueueRef): void;
  queueRing(queue: QueueRef): { ring: RingRef; view: RingView };
  ringPublish(ring: RingRef, tail: number, anyBytes?: AnyBytes, anyOffsets?: AnyOffsets): number;
  ringSpill(ring: RingRef): number;
  queuePush(
    ring: RingRef,
    tail: number,
    pendingBytes: AnyBytes,
    pendingOffsets: AnyOffsets,
    rows: number,
    typed: readonly Uint8Array[],
    anyBytes: AnyBytes,
    anyOffsets: AnyOffsets,
    timestamps: Float64Array,
  ): number;

  /** A user of `queue`; `buffer`: the native buffer `userUpdate` moves rows into (absent for a TS buffer). */
  userNew(queue: QueueRef, maxSize: number, buffer?: BufferRef | ReplayRef): UserRef;
  userUpdate(user: UserRef): number;
  userDrain(user: UserRef): Outputs;
  userCountSince(user: UserRef, since: unknown): number;
  userClose(user: UserRef): void;
  userWrite(user: UserRef, dir: string, cursor: number): Promise<void>;
  userPrepareLoad(user: UserRef, dir: string): Promise<PreparedRef>;
  userApplyLoad(user: UserRef, prepared: PreparedRef): number;

  stageDir(dir: unknown): string;
  commitDir(staged: string, dir: string): Promise<void>;
  discardDir(staged: string): void;
  /** Writes a file atomically and durably (fsync, rename, fsync of the directory). */
  writeFileAtomic(path: unknown, data: Uint8Array): Promise<void>;
  /** Makes a directory's entries durable. */
  syncDir(dir: string): Promise<void>;
  processAlive(pid: unknown): boolean;
  /** Creates a directory and its missing parents (`EXPBUF_IO` with the OS error as cause). */
  makeDir(dir: unknown): void;

  /** Stages a new Parquet dataset for `dir` (`EXPBUF_INVALID_ARGUMENT` if it exists) of these fields, partitioned by `partitionBy` (meta keys). */
  parquetExportBegin(dir: unknown, fields: readonly FieldInfo[], partitionBy: unknown): ParquetExportRef;
  /**
   * Checks and copies a page (items; per typed field, each item's rows as bytes; the final
   * states of those that have one) before it returns, then encodes and writes it off the JS
   * thread: one row group per partition.
   */
  parquetExportWrite(
    writer: ParquetExportRef,
    items: readonly ParquetItem[],
    columns: readonly (readonly Uint8Array[])[],
    finals: readonly Uint8Array[],
  ): Promise<void>;
  /** Finishes every file and renames the dataset into place. */
  parquetExportFinish(writer: ParquetExportRef): Promise<{ files: number; items: number; rows: number; bytes: number }>;
  /** Drops an export and its staged files. */
  parquetExportAbort(writer: ParquetExportRef): void;
  /** Lists the dataset in `dir` and reads and checks every file against these fields. */
  parquetImportOpen(dir: unknown, fields: readonly FieldInfo[]): Promise<{ reader: ParquetImportRef; files: number; items: number; rows: number }>;
  /** The next page of at most `pageSize` whole items (one ArrayBuffer per typed field over their rows; their final states), or null at the end. */
  parquetImportNext(reader: ParquetImportRef, pageSize: number): Promise<{ items: ParquetItem[]; columns: ArrayBuffer[]; finals: ArrayBuffer } | null>;
  /** Closes an import's files. */
  parquetImportClose(reader: ParquetImportRef): void;
}

/** The loaded addon, with this thread's error factory registered. */
export const native = load() as Binding;
native.init(makeError);

/** Codes, counter slots, defaults and limits, as the core has them. */
export const INFO: Info = native.info();

/** The slot of each named counter in a counter block view. */
export function slots<const N extends string>(names: readonly string[], wanted: readonly N[]): Record<N, number> {
  return Object.fromEntries(wanted.map((n) => [n, names.indexOf(n)])) as Record<N, number>;
}
