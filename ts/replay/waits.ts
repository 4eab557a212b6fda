/**
 * The waits of `sampleAsync` and `insertAllowed`: promises resolved when a change on
 * any thread lets the rate limiter allow them. The core keeps each wait and wakes this
 * thread (one callback per buffer object); the callback checks every pending wait
 * again, since another thread may have taken what woke it.
 */
import { ExpbufError } from '../errors.js';
import { native, type ReplayRef } from '../native/binding.js';

interface Wait {
  /** Steps to sample; undefined: an insert. */
  readonly n: number | undefined;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
}

export class Waits {
  readonly #pending = new Set<Wait>();
  readonly #wake = (): void => this.#recheck();

  constructor(private readonly ref: ReplayRef) {}

  /**
   * Resolves once a sample of `n` steps (undefined: an insert) is allowed.
   * @param timeoutMs - rejects with `EXPBUF_RATE_LIMITED` after this many ms (absent: never)
   * @param what - the call, for the timeout's message
   */
  until(n: number | undefined, timeoutMs: number | undefined, what: string): Promise<void> {
    if (native.replayWait(this.ref, n, this.#wake)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w: Wait = { n, resolve, reject };
      this.#pending.add(w);
      if (timeoutMs !== undefined) {
        // A timer counts from the event loop's cached start-of-iteration time, so it can
        // fire a few ms before `timeoutMs` has passed; until then it is armed again.
        const deadline = performance.now() + timeoutMs;
        const expire = (): void => {
          const left = deadline - performance.now();
          if (left > 0) {
            w.timer = setTimeout(expire, Math.ceil(left));
            return;
          }
          this.#pending.delete(w);
          this.#recheck();
          const goal = n === undefined ? 'an insert was' : `a sample of ${n} steps was`;
          reject(new ExpbufError('EXPBUF_RATE_LIMITED', `${what}: ${goal} not allowed within ${timeoutMs} ms`));
        };
        w.timer = setTimeout(expire, timeoutMs);
      }
    });
  }

  /** Checks every pending wait again, resolving those allowed and keeping the rest. */
  #recheck(): void {
    native.replayCancelWaits(this.ref);
    for (const w of [...this.#pending]) {
      if (native.replayWait(this.ref, w.n, this.#wake)) {
        this.#pending.delete(w);
        clearTimeout(w.timer);
        w.resolve();
      }
    }
  }

  /** Rejects every pending wait with `EXPBUF_CLOSED` (the buffer object is closing). */
  close(): void {
    native.replayCancelWaits(this.ref);
    for (const w of this.#pending) {
      clearTimeout(w.timer);
      w.reject(new ExpbufError('EXPBUF_CLOSED', 'replay buffer: closed while waiting'));
    }
    this.#pending.clear();
  }
}
