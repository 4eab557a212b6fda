/**
 * `sampleInto(out)`: the draw of `sample()` written into the caller's arrays, the
 * same arrays every call with no allocation; arrays of another type, length or
 * layout are refused with EXPBUF_INVALID_ARGUMENT before anything is drawn or written.
 */
import { describe, expect, it } from 'vitest';
import { RandomReplacementBuffer, ReservoirBuffer, SequentialBuffer, type ErrorCode } from '../ts/index.js';

const schema = { obs: { dtype: 'float32', shape: [3] }, n: 'int32', w: 'uint8' } as const;
const HELD = 50;
const kinds = {
  sequential: () => new SequentialBuffer(schema, 64, { seed: 7 }),
  'random-replacement': () => new RandomReplacementBuffer(schema, 64, { seed: 7, replaceProbability: 0.5 }),
  reservoir: () => new ReservoirBuffer(schema, 64, { seed: 7 }),
};

/** A buffer of `kind` and its twin (same seed, same rows). */
function twins(make: () => SequentialBuffer<typeof schema> | RandomReplacementBuffer<typeof schema> | ReservoirBuffer<typeof schema>) {
  const pair = [make(), make()];
  for (const b of pair) {
    b.addBatch({
      obs: Float32Array.from({ length: HELD * 3 }, (_, i) => Math.floor(i / 3) + (i % 3) / 4),
      n: Int32Array.from({ length: HELD }, (_, i) => i),
      w: Uint8Array.from({ length: HELD }, (_, i) => 200 + i),
    });
  }
  return pair;
}

const outOf = (rows: number) => ({ obs: new Float32Array(rows * 3), n: new Int32Array(rows), w: new Uint8Array(rows) });

describe.each(Object.entries(kinds))('%s buffer', (_kind, make) => {
  it("fills the same arrays every call, each time with sample()'s draw", () => {
    const [subject, twin] = twins(make);
    const out = outOf(16);
    const arrays = [out.obs, out.n, out.w];
    const memory = arrays.map((a) => a.buffer);
    let changed = 0;
    let previous = [...out.n];
    for (let k = 0; k < 200; k++) {
      const replacement = k % 2 === 0;
      expect(subject.sampleInto(out, { replacement })).toBe(16);
      expect(out).toEqual(twin.sample(16, { replacement }));
      if (out.n.some((v, i) => v !== previous[i])) changed++;
      previous = [...out.n];
    }
    // New contents in the caller's own arrays, over their own memory, still whole.
    expect(changed).toBeGreaterThan(190);
    expect([out.obs, out.n, out.w]).toEqual(arrays);
    [out.obs, out.n, out.w].forEach((a, i) => {
      expect(a).toBe(arrays[i]);
      expect(a.buffer).toBe(memory[i]);
      expect(a.byteLength).toBe(arrays[i].byteLength);
    });
    // And each row is a held row, whole.
    for (let r = 0; r < 16; r++) {
      expect(out.w[r]).toBe(200 + out.n[r]);
      expect(out.obs[r * 3]).toBe(out.n[r]);
    }
  });

  it('allocates no array memory per call', () => {
    const [subject] = twins(make);
    const out = outOf(64);
    for (let k = 0; k < 100; k++) subject.sampleInto(out);
    globalThis.gc?.();
    const before = process.memoryUsage().arrayBuffers;
    // sample(64) would allocate 64 × 17 bytes of output per call: 2.2 MB over these calls.
    for (let k = 0; k < 2000; k++) subject.sampleInto(out);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024);
  });

  const shared = new ArrayBuffer(64 * 4);
  const refused: [string, () => unknown, ErrorCode, string][] = [
    ['a Float64Array for a float32 field', () => ({ ...outOf(16), obs: new Float64Array(48) }), 'EXPBUF_INVALID_ARGUMENT', 'out.obs'],
    ['an Int8Array for a uint8 field', () => ({ ...outOf(16), w: new Int8Array(16) }), 'EXPBUF_INVALID_ARGUMENT', 'out.w'],
    ['a length that is not whole rows', () => ({ ...outOf(16), obs: new Float32Array(47) }), 'EXPBUF_INVALID_ARGUMENT', 'out.obs'],
    ['fields of different row counts', () => ({ ...outOf(16), n: new Int32Array(15) }), 'EXPBUF_INVALID_ARGUMENT', 'out.n'],
    ['empty arrays', () => outOf(0), 'EXPBUF_INVALID_ARGUMENT', 'out.obs'],
    ['a missing field', () => ({ obs: new Float32Array(48), n: new Int32Array(16) }), 'EXPBUF_INVALID_ARGUMENT', 'out.w'],
    ['a number array for a field', () => ({ ...outOf(16), n: new Array<number>(16).fill(0) }), 'EXPBUF_INVALID_ARGUMENT', 'out.n'],
    ['a DataView for a field', () => ({ ...outOf(16), n: new DataView(new ArrayBuffer(64)) }), 'EXPBUF_INVALID_ARGUMENT', 'out.n'],
    [
      'two fields over the same memory',
      () => ({ obs: new Float32Array(shared, 0, 48), n: new Int32Array(shared, 128, 16), w: new Uint8Array(16) }),
      'EXPBUF_INVALID_ARGUMENT',
      'out.n',
    ],
    ['not an object', () => 5, 'EXPBUF_INVALID_ARGUMENT', 'out'],
  ];

  it.each(refused)('refuses %s, drawing and writing nothing', (_name, outFor, code, names) => {
    const [subject, twin] = twins(make);
    const out = outFor();
    const typed =
      typeof out === 'object' && out !== null ? Object.values(out).filter((a): a is Float32Array => ArrayBuffer.isView(a) && !(a instanceof DataView)) : [];
    for (const a of typed) a.fill(9);
    const before = typed.map((a) => a.slice());
    let caught: unknown;
    try {
      subject.sampleInto(out as never);
    } catch (e) {
      caught = e;
    }
    expect((caught as { code?: string } | undefined)?.code).toBe(code);
    expect((caught as Error).message).toContain(names);
    expect(typed).toEqual(before);
    // No draw was spent: the next samples equal the twin's.
    expect(subject.sample(8)).toEqual(twin.sample(8));
    const a = outOf(8);
    subject.sampleInto(a);
    expect(a).toEqual(twin.sample(8));
  });

  it('refuses more rows than held without replacement, and an unknown option, drawing nothing', () => {
    const [subject, twin] = twins(make);
    const out = outOf(HELD + 1);
    expect(() => subject.sampleInto(out, { replacement: false })).toThrow(expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT' }));
    expect(() => subject.sampleInto(out, { replace: false } as never)).toThrow(expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT' }));
    expect(out.n.every((v) => v === 0)).toBe(true);
    expect(subject.sample(8)).toEqual(twin.sample(8));
    expect(() => make().sampleInto(outOf(4))).toThrow(expect.objectContaining({ code: 'EXPBUF_EMPTY' }));
  });
});
