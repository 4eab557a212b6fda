/**
 * The generic JS ways of doing what expbuf does, kept beside the specialized baseline
 * for what they still show (what a per-step collect and a held row cost in JS written
 * as examples write it): a naive array of step objects, and the TS reference buffer
 * behind a JS queue.
 */
import { now } from '../ts/clock.js';
import type { Schema } from '../ts/index.js';
import type { ReferenceBuffer } from '../reference/reference-buffer.js';
import type { Step } from './specialized.js';

/** An array of step objects that overwrites at a wrapping index once full. */
export class NaiveBuffer {
  readonly rows: Step[] = [];
  private queue: Step[] = [];
  private next = 0;
  constructor(readonly maxSize: number) {}
  collect(step: Step): void {
    this.queue.push(step);
  }
  update(): void {
    for (const s of this.queue) {
      if (this.rows.length < this.maxSize) this.rows.push(s);
      else this.rows[this.next] = s;
      this.next = (this.next + 1) % this.maxSize;
    }
    this.queue = [];
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
}
