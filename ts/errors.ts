/** The `code` of every error expbuf throws; the message names the field or argument. */
export type ErrorCode =
  | 'EXPBUF_MISSING_FIELD'
  | 'EXPBUF_UNKNOWN_FIELD'
  | 'EXPBUF_BAD_VALUE'
  | 'EXPBUF_INVALID_ARGUMENT'
  | 'EXPBUF_EMPTY'
  | 'EXPBUF_ALREADY_ACQUIRED'
  | 'EXPBUF_NOT_FOUND'
  | 'EXPBUF_CLOSED'
  | 'EXPBUF_CORRUPT_STATE'
  | 'EXPBUF_SCHEMA_MISMATCH';

/**
 * An error thrown by the TypeScript layer. Errors from the native core are plain
 * `Error`s with the same `code` property; test for `code`, not the class.
 */
export class ExpbufError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExpbufError';
    this.code = code;
  }
}

/** Whether `e` is an error with one of expbuf's codes (from TS or from the core). */
export function isExpbufError(e: unknown): e is Error & { code: ErrorCode } {
  if (!(e instanceof Error)) return false;
  const code: unknown = (e as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('EXPBUF_');
}

/**
 * Rebuilds the coded error of a native async task: napi's tasks carry only a message,
 * which the core starts with the code ("EXPBUF_CORRUPT_STATE: …").
 */
export function fromTaskError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const m = /^(EXPBUF_[A-Z_]+): ([\s\S]*)$/.exec(e.message);
  return m ? new ExpbufError(m[1] as ErrorCode, m[2], { cause: e }) : e;
}
