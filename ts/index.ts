/**
 * expbuf: the experience-data pipeline for agents that learn while they act.
 */
export { Agent } from './agent.js';
export { DataBuffer } from './buffers/data-buffer.js';
export { NativeDataBuffer, type SampleOptions } from './buffers/native-buffer.js';
export { RandomReplacementBuffer, type RandomReplacementBufferOptions } from './buffers/random-replacement.js';
export { ReservoirBuffer, type ReservoirBufferOptions } from './buffers/reservoir.js';
export { SequentialBuffer, type SequentialBufferOptions } from './buffers/sequential.js';
export { ERROR_CODES, ExpbufError, isExpbufError, type ErrorCode } from './errors.js';
export type { BufferHandle, CollectorHandle, ReplayBufferHandle } from './handles.js';
export { INFO as expbufInfo, type Info } from './native/binding.js';
export { registrySize } from './registry.js';
export type {
  EpisodeInput,
  ItemInput,
  IterateOptions,
  Meta,
  PoolQuery,
  RecordInput,
  StoredEpisode,
  StoredItem,
  StoredRecord,
  TimeRange,
} from './pool/items.js';
export { openPool, type OpenPoolOptions } from './pool/open.js';
export {
  exportParquet,
  importParquet,
  type ExportParquetOptions,
  type ImportParquetOptions,
  type ParquetExportSummary,
  type ParquetImportSummary,
} from './pool/parquet.js';
export type { Pool } from './pool/pool.js';
export {
  ReplayBuffer,
  type EpisodeBatch,
  type Flag,
  type PriorityOptions,
  type RateLimitOptions,
  type ReplayBufferOptions,
  type ReplayColumns,
  type ReplayData,
  type ReplaySchema,
  type ReplayStats,
  type ReplayStep,
  type SequenceBatch,
  type TransitionBatch,
  type WaitOptions,
} from './replay/replay-buffer.js';
export { DataCollector } from './pipeline/collector.js';
export { DataCollectorsDict, DataUsersDict, type CollectorsOf, type UsersOf } from './pipeline/dicts.js';
export { DataUser, type DataUserOptions, type StepOfBuffer } from './pipeline/user.js';
export type { BatchOf, DataOf, Dtype, FieldSpec, FieldsInput, OutOf, Schema, StepOf, TypedArray } from './schema.js';
export { COMPLETE_MARKER, StateStore, type PersistentState, type StateStoreOptions } from './state-store.js';
export { Trainer, type TrainerOptions } from './trainer.js';
