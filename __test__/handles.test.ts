/**
 * A handle is an id and a kind; the native side owns everything else. A bare
 * `{ kind, id }` attaches like the handle it copies; extra or altered fields change
 * nothing; an id of another object or of nothing is a coded error, never a misread.
 */
import { describe, expect, it } from 'vitest';
import { DataCollector, DataUser, ExpbufError, ReplayBuffer, ReservoirBuffer, SequentialBuffer } from '../ts/index.js';

const schema = { obs: { dtype: 'float32', shape: [3] }, n: 'int32' } as const;

function filled(): SequentialBuffer<typeof schema> {
  const b = new SequentialBuffer(schema, 16, { seed: 2 });
  for (let i = 0; i < 10; i++) b.add({ obs: [i, i + 1, i + 2], n: i });
  return b;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ExpbufError);
    return (e as ExpbufError).code;
  }
  return undefined;
}

describe('handles', () => {
  it('a bare { kind, id } attaches to the same rows; extra or altered fields are ignored', () => {
    const b = filled();
    const h = b.handle();
    const bare = SequentialBuffer.fromHandle({ kind: h.kind, id: h.id });
    expect(bare.getData()).toEqual(b.getData());
    // A handle that claims other fields, another size, or another kind's options: the
    // native buffer's own fields and size rule.
    const altered = SequentialBuffer.fromHandle({ ...h, fields: { obs: { dtype: 'float64', shape: [100] } }, maxSize: 1e9 } as never);
    expect(altered.maxSize).toBe(16);
    expect(altered.collectingDataNames).toEqual(['obs', 'n']);
    expect(altered.getData()).toEqual(b.getData());
    bare.add({ obs: [7, 7, 7], n: 77 });
    expect(b.get(b.size - 1)).toEqual({ obs: Float32Array.of(7, 7, 7), n: 77 });
    for (const x of [bare, altered, b]) x.close();
  });

  it('an id of another kind, of nothing, or of a closed object is refused with a code', () => {
    const b = filled();
    const user = new DataUser(filled());
    const ch = user.collector.handle();
    const rb = new ReplayBuffer({ schema: { state: 'float32', action: 'int32', reward: 'float32' }, maxSize: 4 });
    // A buffer's id given as a collector's, a collector's as a buffer's, a replay buffer's as a plain one's.
    expect(code(() => DataCollector.fromHandle({ kind: 'expbuf.collector', id: b.handle().id } as never))).toMatch(/^EXPBUF_(INVALID_ARGUMENT|CLOSED)$/);
    expect(code(() => SequentialBuffer.fromHandle({ kind: 'expbuf.buffer', id: ch.id } as never))).toMatch(/^EXPBUF_(INVALID_ARGUMENT|CLOSED)$/);
    expect(code(() => SequentialBuffer.fromHandle({ kind: 'expbuf.buffer', id: rb.handle().id } as never))).toMatch(/^EXPBUF_(INVALID_ARGUMENT|CLOSED)$/);
    // Another kind of buffer behind a good id: named.
    expect(() => ReservoirBuffer.fromHandle(b.handle() as never)).toThrow(
      expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('sequential') }),
    );
    for (const id of [0, -1, 1.5, 2 ** 60, Number.NaN, 123_456_789]) {
      expect(code(() => SequentialBuffer.fromHandle({ kind: 'expbuf.buffer', id } as never))).toMatch(/^EXPBUF_(INVALID_ARGUMENT|CLOSED)$/);
    }
    const closed = filled();
    const gone = closed.handle();
    closed.close();
    expect(code(() => SequentialBuffer.fromHandle(gone))).toBe('EXPBUF_CLOSED');
    user.close();
    b.close();
  });
});
