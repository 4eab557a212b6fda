import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReferenceRandomReplacementBuffer, ReferenceReservoirBuffer, ReferenceSequentialBuffer } from '../reference/buffers.js';
import { RandomReplacementBuffer, ReservoirBuffer, SequentialBuffer } from '../ts/index.js';

const schema = { obs: { dtype: 'float32', shape: [2] }, action: 'int16', tag: 'any' } as const;

type Op = { op: 'add'; v: number } | { op: 'addBatch'; n: number; v: number } | { op: 'sample'; k: number; replacement: boolean } | { op: 'getData' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('add' as const), v: fc.integer({ min: -1000, max: 1000 }) }),
  fc.record({ op: fc.constant('addBatch' as const), n: fc.integer({ min: 0, max: 40 }), v: fc.integer({ min: -1000, max: 1000 }) }),
  fc.record({ op: fc.constant('sample' as const), k: fc.integer({ min: 1, max: 30 }), replacement: fc.boolean() }),
  fc.record({ op: fc.constant('getData' as const) }),
);

interface Buf {
  add(s: unknown): void;
  addBatch(c: unknown): void;
  sample(k: number, o: { replacement: boolean }): unknown;
  getData(): unknown;
  readonly size: number;
}

function run(a: Buf, b: Buf, ops: Op[]): void {
  for (const o of ops) {
    if (o.op === 'add') {
      const step = { obs: [o.v, o.v / 4], action: o.v, tag: `t${o.v}` };
      a.add(step);
      b.add(step);
    } else if (o.op === 'addBatch') {
      const cols = {
        obs: Float32Array.from({ length: 2 * o.n }, (_, i) => o.v + i),
        action: Array.from({ length: o.n }, (_, i) => (o.v + i) % 30000),
        tag: Array.from({ length: o.n }, (_, i) => ({ i, v: o.v })),
      };
      a.addBatch(cols);
      b.addBatch(cols);
    } else if (o.op === 'sample') {
      if (a.size === 0 || (!o.replacement && o.k > a.size)) {
        expect(() => a.sample(o.k, { replacement: o.replacement })).toThrow();
        expect(() => b.sample(o.k, { replacement: o.replacement })).toThrow();
      } else {
        expect(a.sample(o.k, { replacement: o.replacement })).toEqual(b.sample(o.k, { replacement: o.replacement }));
      }
    }
    expect(a.size).toBe(b.size);
  }
  expect(a.getData()).toEqual(b.getData());
}

const pairs: [string, (max: number, seed: number) => [Buf, Buf]][] = [
  ['SequentialBuffer', (m, seed) => [new SequentialBuffer(schema, m, { seed }), new ReferenceSequentialBuffer(schema, m, { seed })]],
  [
    'RandomReplacementBuffer p=0.6',
    (m, seed) => [
      new RandomReplacementBuffer(schema, m, { seed, replaceProbability: 0.6 }),
      new ReferenceRandomReplacementBuffer(schema, m, { seed, replaceProbability: 0.6 }),
    ],
  ],
  ['RandomReplacementBuffer p=1', (m, seed) => [new RandomReplacementBuffer(schema, m, { seed }), new ReferenceRandomReplacementBuffer(schema, m, { seed })]],
  ['ReservoirBuffer', (m, seed) => [new ReservoirBuffer(schema, m, { seed }), new ReferenceReservoirBuffer(schema, m, { seed })]],
];

describe.each(pairs)('%s: native and TS reference agree', (_name, make) => {
  it('on random operation sequences (same seed → same getData and sample)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.array(opArb, { maxLength: 40 }), (max, seed, ops) => {
        const [a, b] = make(max, seed);
        run(a, b, ops);
      }),
      { numRuns: 150 },
    );
  });
});
