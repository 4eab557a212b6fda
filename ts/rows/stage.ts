/**
 * A native object's `add()` stage on this thread: steps are checked and written into
 * native memory with no native call, and handed to the object in one call when this
 * thread publishes its writers (`flushWriters`: a read of the object, a microtask, a
 * full stage).
 */
import type { RingView } from '../native/binding.js';
import type { Layout } from '../schema.js';
import { RowWriter } from './writer.js';

/** A native stage: its memory, and the call that moves its rows up to `tail` (with their `any` values) into the object. */
export interface NativeStage {
  ring: RingView;
  flush(tail: number, anyBytes?: Uint8Array[], anyOffsets?: Uint32Array[]): void;
}

export class Stage {
  #writer: RowWriter | undefined;

  /** @param open - makes the native stage, once, at the first step */
  constructor(
    readonly layout: Layout,
    private readonly open: () => NativeStage,
  ) {}

  /** Checks `step` and stages it; throws (staging nothing) on bad input. */
  put(step: unknown): void {
    (this.#writer ?? this.#make()).put(step, 0);
  }

  #make(): RowWriter {
    const stage = this.open();
    const writer: RowWriter = new RowWriter(this.layout, stage.ring, {
      publish: (tail, bytes, offsets) => {
        stage.flush(tail, bytes, offsets);
        return tail;
      },
      // A flush takes every staged row, so a full stage is empty after a publish.
      spill: () => writer.tail,
    });
    this.#writer = writer;
    return writer;
  }
}
