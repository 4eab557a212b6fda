/**
 * The one error type expbuf throws. Errors from the native core arrive as
 * `ExpbufError`s too: the binding builds them with `makeError`, which the TS layer
 * registers in every thread that loads the addon.
 */
import { constants } from 'node:os';
import type { ErrorCode } from './error-codes.js';

export { ERROR_CODES, type ErrorCode } from './error-codes.js';

/** An expbuf failure: `code` says what went wrong, the message names the argument. */
export class ExpbufError extends Error {
  readonly code: ErrorCode;

  /**
   * @param code - one of `ERROR_CODES`
   * @param message - names the field or argument at fault
   * @param options - `cause`: the foreign error behind it (an OS or driver error)
   */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExpbufError';
    this.code = code;
  }
}

/** Whether `e` is an `ExpbufError` (of this or another copy of the package, e.g. across realms). */
export function isExpbufError(e: unknown): e is ExpbufError {
  if (e instanceof ExpbufError) return true;
  const code: unknown = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && e.name === 'ExpbufError' && typeof code === 'string' && code.startsWith('EXPBUF_');
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/**
 * The factory the binding calls for every native error: an OS error number becomes the
 * cause, an `Error` with Node's `code` (`ENOSPC`) and `errno` (negative, as Node has it).
 */
export function makeError(code: ErrorCode, message: string, errno?: number, osMessage?: string): ExpbufError {
  if (errno === undefined) return new ExpbufError(code, message);
  const cause = Object.assign(new Error(osMessage ?? `OS error ${errno}`), { errno: -errno, code: ERRNO_NAMES.get(errno) ?? `ERRNO_${errno}` });
  return new ExpbufError(code, message, { cause });
}

/** An `EXPBUF_IO` error for a failed file-system call on `path`, with the OS error as cause. */
export function ioError(path: string, what: string, e: unknown): ExpbufError {
  const os = (e as { code?: string }).code ?? '';
  return new ExpbufError('EXPBUF_IO', `${path}: ${what} failed: ${os ? `${os} ` : ''}${(e as Error)?.message ?? String(e)}`, { cause: e });
}

/** `EXPBUF_INVALID_ARGUMENT` naming the argument. */
export function invalid(message: string, cause?: unknown): ExpbufError {
  return new ExpbufError('EXPBUF_INVALID_ARGUMENT', message, cause === undefined ? undefined : { cause });
}

/** Whether a file-system error means a full disk, missing rights, or a broken device (not a missing file). */
export function isIoFailure(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && code !== 'ENOENT';
}
