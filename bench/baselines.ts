/**
 * The JS ways of doing what expbuf does, for the benchmark: a naive array of step
 * objects (as JS RL examples write it), and the TS reference buffer behind a JS queue.
 */
import type { DataOf, Schema } from '../ts/index.js';
import { now } from '../ts/clock.js';
import type { ReferenceBuffer } from '../reference/reference-buffer.js';

export interface Step {
  obs: Float32Array;
  action: number;
  reward: number;
}

/**
 * An array of step objects, in either form JS examples write it: `ring` overwrites at a
 * wrapping index; `shift` pushes and shifts the oldest out (O(n) per step once full).
 */
export class NaiveBuffer {
  readonly rows: Step[] = [];
  private queue: Step[] = [];
  private next = 0;
  constructor(
    readonly maxSize: number,
    private readonly form: 'ring' | 'shift' = 'ring',
  ) {}
  collect(step: Step): void {
    this.queue.push(step);
  }
  update(): void {
    for (const s of this.queue) {
      if (this.form === 'shift') {
        this.rows.push(s);
        if (this.rows.length > this.maxSize) this.rows.shift();
        continue;
      }
      if (this.rows.length < this.maxSize) this.rows.push(s);
      else this.rows[this.next] = s;
      this.next = (this.next + 1) % this.maxSize;
    }
    this.queue = [];
  }
  sample(n: number): { obs: Float32Array; action: Int32Array; reward: Float32Array } {
    const obs = new Float32Array(n * 64);
    const action = new Int32Array(n);
    const reward = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const s = this.rows[Math.floor(Math.random() * this.rows.length)];
      obs.set(s.obs, k * 64);
      action[k] = s.action;
      reward[k] = s.reward;
    }
    return { obs, action, reward };
  }
  getData(): Step[] {
    return this.form === 'shift' || this.rows.length < this.maxSize ? this.rows.slice() : [...this.rows.slice(this.next), ...this.rows.slice(0, this.next)];
  }
}

/**
 * The reference buffer behind a JS queue, doing a DataUser's work in pure JS: each
 * collect is stamped with its time (for countDataAddedSince), update adds the rows.
 */
export class ReferencePipeline<S extends Schema> {
  private queue: unknown[] = [];
  private times: number[] = [];
  readonly log: number[] = [];
  constructor(readonly buffer: ReferenceBuffer<S>) {}
  collect(step: unknown): void {
    this.queue.push(step);
    this.times.push(now());
  }
  update(): void {
    for (const s of this.queue) this.buffer.add(s as never);
    for (const t of this.times) this.log.push(t);
    if (this.log.length > 2 * this.buffer.maxSize) this.log.splice(0, this.log.length - this.buffer.maxSize);
    this.queue = [];
    this.times = [];
  }
  data(): DataOf<S> {
    return this.buffer.getData();
  }
}
