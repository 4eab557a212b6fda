// Generated from ErrorCode in crates/expbuf-core/src/error.rs; the core's test
// tests/error_codes.rs checks that this file matches (EXPBUF_BLESS=1 rewrites it).

/** The `code` of every error expbuf throws; the message names the field or argument. */
export type ErrorCode =
  /** A step or batch lacks a declared field. */
  | 'EXPBUF_MISSING_FIELD'
  /** A step or batch has a field the schema does not declare. */
  | 'EXPBUF_UNKNOWN_FIELD'
  /** A value has the wrong type, is out of its dtype's range, or has the wrong element count. */
  | 'EXPBUF_BAD_VALUE'
  /** An argument or option is wrong: its type, its range, or an unknown option key. */
  | 'EXPBUF_INVALID_ARGUMENT'
  /** Sampling from a buffer that holds nothing sampleable. */
  | 'EXPBUF_EMPTY'
  /** A data collector acquired a second time. */
  | 'EXPBUF_ALREADY_ACQUIRED'
  /** A name (collector, user, id) that does not exist. */
  | 'EXPBUF_NOT_FOUND'
  /** A call on an object that was closed. */
  | 'EXPBUF_CLOSED'
  /** A saved state or pool file that fails its checks. */
  | 'EXPBUF_CORRUPT_STATE'
  /** A state, pool or dataset made for other fields or another kind. */
  | 'EXPBUF_SCHEMA_MISMATCH'
  /** A sample the rate limiter does not allow yet. */
  | 'EXPBUF_RATE_LIMITED'
  /** A pool or state that another live process holds. */
  | 'EXPBUF_LOCKED'
  /** A file system or server failure; the OS error or the server's message is the cause. */
  | 'EXPBUF_IO'
  /** A bug in expbuf (a panic caught at the boundary); please report it. */
  | 'EXPBUF_INTERNAL';

/** Every code, in the core's order. */
export const ERROR_CODES: readonly ErrorCode[] = [
  'EXPBUF_MISSING_FIELD',
  'EXPBUF_UNKNOWN_FIELD',
  'EXPBUF_BAD_VALUE',
  'EXPBUF_INVALID_ARGUMENT',
  'EXPBUF_EMPTY',
  'EXPBUF_ALREADY_ACQUIRED',
  'EXPBUF_NOT_FOUND',
  'EXPBUF_CLOSED',
  'EXPBUF_CORRUPT_STATE',
  'EXPBUF_SCHEMA_MISMATCH',
  'EXPBUF_RATE_LIMITED',
  'EXPBUF_LOCKED',
  'EXPBUF_IO',
  'EXPBUF_INTERNAL',
];
