/**
 * Issue 11's JS baseline: the fastest pure JS we know how to write for the bench
 * schema { obs: float32[64], action: int32, reward: float32 } alone. Preallocated
 * typed columns in a ring, a typed staging ring stamped with `Date.now()` per row,
 * one 64-float row copy per row (generated and unrolled, or one `set`: which is
 * faster depends on the workload and the machine, so the bench runs both), bulk
 * `set` for long runs, `Math.random()` draws, and a two-pass gather that touches
 * every cache line of the drawn rows before copying any.
 *
 * It checks nothing: a step is trusted to be of the schema (expbuf checks every
 * value), so it is a floor for what JS can do, not a rival API.
 */
export const OBS = 64;

export interface Step {
  obs: Float32Array;
  action: number;
  reward: number;
}

/** Rows as columns (`time`: collect times, Date.now() ms), over plain ArrayBuffers so they can be transferred. */
export interface Rows {
  obs: Float32Array<ArrayBuffer>;
  action: Int32Array<ArrayBuffer>;
  reward: Float32Array<ArrayBuffer>;
  time: Float64Array<ArrayBuffer>;
}

/** Copies one row, `OBS` floats, from `src[s..]` to `dst[d..]`. */
export type RowCopy = (src: Float32Array, s: number, dst: Float32Array, d: number) => void;

/** The two ways to copy one row. */
export const ROW_COPIES = {
  /** One assignment per element, generated. */
  unrolled: new Function('src', 's', 'dst', 'd', Array.from({ length: OBS }, (_, k) => `dst[d + ${k}] = src[s + ${k}];`).join('\n')) as RowCopy,
  /** One `set` (a memcpy after its checks; a subarray object unless the source is one whole row). */
  set: ((src, s, dst, d) => dst.set(s === 0 && src.length === OBS ? src : src.subarray(s, s + OBS), d)) as RowCopy,
};
export type RowCopyKind = keyof typeof ROW_COPIES;

/**
 * Below this many rows a move copies row by row; from it on, with one `set` of a
 * subarray per column (a memcpy, but a subarray object per call).
 */
const BULK_ROWS = 32;

/** Fresh columns of `rows` rows. */
export function rowsOf(rows: number): Rows {
  return { obs: new Float32Array(rows * OBS), action: new Int32Array(rows), reward: new Float32Array(rows), time: new Float64Array(rows) };
}

/** Copies `n` rows (with their times) from slot `from` of `src` to slot `to` of `dst`; neither run wraps. */
function moveRun(copy: RowCopy, src: Rows, from: number, dst: Rows, to: number, n: number): void {
  if (n < BULK_ROWS) {
    for (let k = 0; k < n; k++) {
      copy(src.obs, (from + k) * OBS, dst.obs, (to + k) * OBS);
      dst.action[to + k] = src.action[from + k];
      dst.reward[to + k] = src.reward[from + k];
      dst.time[to + k] = src.time[from + k];
    }
    return;
  }
  dst.obs.set(src.obs.subarray(from * OBS, (from + n) * OBS), to * OBS);
  dst.action.set(src.action.subarray(from, from + n), to);
  dst.reward.set(src.reward.subarray(from, from + n), to);
  dst.time.set(src.time.subarray(from, from + n), to);
}

/** The columns a gather reads. */
export interface Columns {
  obs: Float32Array;
  action: Int32Array;
  reward: Float32Array;
}

/**
 * Draws `n` uniform slots below `rows` (with replacement) into `drawn` and reads one
 * value of each 64-byte line of their rows, so that the misses of all rows are in
 * flight at once: a sample's first pass, and alone the floor of any sample (the
 * draws and one load per line). Returns the sum of what it read (so that no load is
 * optimized away).
 */
export function touchRows(c: Columns, rows: number, n: number, drawn: Int32Array): number {
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const slot = Math.floor(Math.random() * rows);
    drawn[k] = slot;
    const b = slot * OBS;
    // A 256-byte row spans 4 lines, or 5 when it does not start on one.
    sum += c.obs[b] + c.obs[b + 16] + c.obs[b + 32] + c.obs[b + 48] + c.obs[b + 63] + c.action[slot] + c.reward[slot];
  }
  return sum;
}

/** A FIFO ring of `maxSize` rows (SequentialBuffer's rule), oldest first in `getData()`. */
export class SpecializedBuffer {
  readonly cols: Rows;
  size = 0;
  /** The slot the next row goes to. */
  next = 0;
  /** The drawn slots of a sample, reused. */
  #drawn = new Int32Array(0);
  /** What the last draw's touch pass read, kept so it is not optimized away. */
  touched = 0;

  constructor(
    readonly maxSize: number,
    readonly copy: RowCopy = ROW_COPIES.unrolled,
  ) {
    this.cols = rowsOf(maxSize);
  }

  add(step: Step): void {
    const c = this.cols;
    const slot = this.next;
    this.copy(step.obs, 0, c.obs, slot * OBS);
    c.action[slot] = step.action;
    c.reward[slot] = step.reward;
    this.#advance(1);
  }

  /** Appends rows `from..from+n` of `src` (a ring of `src.action.length` rows: the run may wrap there). */
  addRows(src: Rows, from: number, n: number): void {
    const cap = src.action.length;
    while (n > 0) {
      const run = Math.min(n, cap - from, this.maxSize - this.next);
      moveRun(this.copy, src, from, this.cols, this.next, run);
      this.#advance(run);
      from = from + run === cap ? 0 : from + run;
      n -= run;
    }
  }

  #advance(n: number): void {
    this.next += n;
    if (this.next === this.maxSize) this.next = 0;
    this.size = Math.min(this.maxSize, this.size + n);
  }

  /** Copies of every held row, oldest first. */
  getData(): { obs: Float32Array; action: Int32Array; reward: Float32Array } {
    const out = rowsOf(this.size);
    // Full: the oldest row is the next slot; otherwise slot 0.
    const oldest = this.size === this.maxSize ? this.next : 0;
    const first = this.size - oldest;
    const c = this.cols;
    out.obs.set(c.obs.subarray(oldest * OBS, (oldest + first) * OBS));
    out.obs.set(c.obs.subarray(0, (this.size - first) * OBS), first * OBS);
    out.action.set(c.action.subarray(oldest, oldest + first));
    out.action.set(c.action.subarray(0, this.size - first), first);
    out.reward.set(c.reward.subarray(oldest, oldest + first));
    out.reward.set(c.reward.subarray(0, this.size - first), first);
    return { obs: out.obs, action: out.action, reward: out.reward };
  }

  /** Draws `n` slots into a reused array (its first `n`), as `touchRows` does. */
  draw(n: number): Int32Array {
    if (this.#drawn.length < n) this.#drawn = new Int32Array(n);
    this.touched = touchRows(this.cols, this.size, n, this.#drawn);
    return this.#drawn;
  }

  /** `n` uniform rows (with replacement): `draw`, then the copies, from cache. */
  sample(n: number): { obs: Float32Array; action: Int32Array; reward: Float32Array } {
    const drawn = this.draw(n);
    const c = this.cols;
    const obs = new Float32Array(n * OBS);
    const action = new Int32Array(n);
    const reward = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const slot = drawn[k];
      this.copy(c.obs, slot * OBS, obs, k * OBS);
      action[k] = c.action[slot];
      reward[k] = c.reward[slot];
    }
    return { obs, action, reward };
  }
}

/**
 * A collector and its user in one (the single-thread pipeline): `collect` stages a
 * step in a typed ring of `stageRows` (a power of two) stamped with `Date.now()`;
 * `update()` moves the staged rows into the buffer and keeps their times. A full
 * stage drops its oldest row, as a bounded queue does.
 */
export class SpecializedPipeline {
  readonly stage: Rows;
  readonly #mask: number;
  /** Rows staged and moved, as ever-growing counts (the slot is `count & mask`). */
  #tail = 0;
  #head = 0;
  dropped = 0;

  constructor(
    readonly buffer: SpecializedBuffer,
    stageRows = 4096,
  ) {
    this.stage = rowsOf(stageRows);
    this.#mask = stageRows - 1;
  }

  collect(step: Step): void {
    if (this.#tail - this.#head > this.#mask) this.#drop(1);
    const s = this.stage;
    const slot = this.#tail & this.#mask;
    this.buffer.copy(step.obs, 0, s.obs, slot * OBS);
    s.action[slot] = step.action;
    s.reward[slot] = step.reward;
    s.time[slot] = Date.now();
    this.#tail++;
  }

  /** Stages `columns` (whole rows, fewer than the stage holds), all stamped with one `Date.now()`. */
  collectBatch(columns: { obs: Float32Array; action: Int32Array; reward: Float32Array }): void {
    const n = columns.action.length;
    const room = this.#mask + 1 - (this.#tail - this.#head);
    if (n > room) this.#drop(n - room);
    const t = Date.now();
    const s = this.stage;
    for (let done = 0; done < n; ) {
      const slot = (this.#tail + done) & this.#mask;
      const run = Math.min(n - done, this.#mask + 1 - slot);
      s.obs.set(columns.obs.subarray(done * OBS, (done + run) * OBS), slot * OBS);
      s.action.set(columns.action.subarray(done, done + run), slot);
      s.reward.set(columns.reward.subarray(done, done + run), slot);
      s.time.fill(t, slot, slot + run);
      done += run;
    }
    this.#tail += n;
  }

  #drop(n: number): void {
    this.#head += n;
    this.dropped += n;
  }

  /** Moves every staged row into the buffer; returns how many. */
  update(): number {
    const n = this.#tail - this.#head;
    if (n === 0) return 0;
    this.buffer.addRows(this.stage, this.#head & this.#mask, n);
    this.#head = this.#tail;
    return n;
  }
}
