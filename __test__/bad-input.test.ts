import { describe, expect, it } from 'vitest';
import {
  DataCollector,
  DataUser,
  DataUsersDict,
  RandomReplacementBuffer,
  registrySize,
  ReservoirBuffer,
  SequentialBuffer,
  type ErrorCode,
} from '../ts/index.js';
import { checkObject, serializeValue, writeValue } from '../ts/rows/columns.js';
import { encoderFor } from '../ts/rows/encoder.js';
import { layoutOf } from '../ts/schema.js';

const schema = {
  obs: { dtype: 'float32', shape: [3] },
  small: 'int8',
  count: 'uint16',
  note: 'any',
} as const;
type Step = { obs: unknown; small: unknown; count: unknown; note: unknown };
const good = (i: number): Step => ({ obs: [i, i, i], small: i % 100, count: i, note: { i } });

const kinds = {
  sequential: () => new SequentialBuffer(schema, 8, { seed: 5 }),
  'random-replacement': () => new RandomReplacementBuffer(schema, 8, { seed: 5, replaceProbability: 0.5 }),
  reservoir: () => new ReservoirBuffer(schema, 8, { seed: 5 }),
};

/** Throws? Then with `code`, and a message naming `names`. */
function expectError(fn: () => unknown, code: ErrorCode, names: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(Error);
  expect((caught as { code?: string }).code).toBe(code);
  expect((caught as Error).message).toContain(names);
}

const badSteps: [string, (s: Step) => unknown, ErrorCode, string][] = [
  ['missing field', ({ note: _n, ...rest }) => rest, 'EXPBUF_MISSING_FIELD', "'note'"],
  ['unknown field', (s) => ({ ...s, extra: 1 }), 'EXPBUF_UNKNOWN_FIELD', "'extra'"],
  ['wrong element count', (s) => ({ ...s, obs: [1, 2] }), 'EXPBUF_BAD_VALUE', "'obs'"],
  ['wrong element count (typed array)', (s) => ({ ...s, obs: new Float32Array(4) }), 'EXPBUF_BAD_VALUE', "'obs'"],
  ['a number for a shaped field', (s) => ({ ...s, obs: 1 }), 'EXPBUF_BAD_VALUE', "'obs'"],
  ['int8 above range', (s) => ({ ...s, small: 128 }), 'EXPBUF_BAD_VALUE', "'small'"],
  ['uint16 below range', (s) => ({ ...s, count: -1 }), 'EXPBUF_BAD_VALUE', "'count'"],
  ['fraction for an integer dtype', (s) => ({ ...s, count: 1.5 }), 'EXPBUF_BAD_VALUE', "'count'"],
  ['NaN for an integer dtype', (s) => ({ ...s, small: NaN }), 'EXPBUF_BAD_VALUE', "'small'"],
  ['string where a number goes', (s) => ({ ...s, small: '3' }), 'EXPBUF_BAD_VALUE', "'small'"],
  ['string inside a vector', (s) => ({ ...s, obs: [1, '2', 3] }), 'EXPBUF_BAD_VALUE', "'obs'"],
  ['a function in an any field', (s) => ({ ...s, note: () => 1 }), 'EXPBUF_BAD_VALUE', "'note'"],
  ['a symbol in an any field', (s) => ({ ...s, note: Symbol('x') }), 'EXPBUF_BAD_VALUE', "'note'"],
  ['undefined for a typed field', (s) => ({ ...s, count: undefined }), 'EXPBUF_BAD_VALUE', "'count'"],
  ['not an object', () => 42, 'EXPBUF_BAD_VALUE', 'step'],
];

describe.each(Object.entries(kinds))('%s buffer: a bad step changes nothing', (_kind, make) => {
  it.each(badSteps)('%s', (_name, mutate, code, names) => {
    const subject = make();
    const twin = make();
    for (const b of [subject, twin]) for (let i = 0; i < 11; i++) b.add(good(i) as never);
    expectError(() => subject.add(mutate(good(99)) as never), code, names);
    expect(subject.size).toBe(twin.size);
    expect(subject.getData()).toEqual(twin.getData());
    // No RNG draw or counter was spent either: the next rows and samples agree.
    for (const b of [subject, twin]) for (let i = 20; i < 30; i++) b.add(good(i) as never);
    expect(subject.getData()).toEqual(twin.getData());
    expect(subject.sample(16)).toEqual(twin.sample(16));
  });
});

describe('a bad batch changes nothing', () => {
  const cases: [string, Record<string, unknown>, ErrorCode, string][] = [
    ['columns differ in row count', { obs: new Float32Array(6), small: [1, 2, 3], count: [1, 2], note: [1, 2] }, 'EXPBUF_BAD_VALUE', "'small'"],
    ['a shaped column not a whole number of rows', { obs: new Float32Array(5), small: [1, 2], count: [1, 2], note: [1, 2] }, 'EXPBUF_BAD_VALUE', "'obs'"],
    ['a value out of range in row 2', { obs: new Float32Array(6), small: [1, 500], count: [1, 2], note: [1, 2] }, 'EXPBUF_BAD_VALUE', "'small'"],
    ['an uncloneable value in row 2', { obs: new Float32Array(6), small: [1, 2], count: [1, 2], note: [1, () => 0] }, 'EXPBUF_BAD_VALUE', "'note'"],
    ['a missing column', { obs: new Float32Array(6), small: [1, 2], count: [1, 2] }, 'EXPBUF_MISSING_FIELD', "'note'"],
    ['an unknown column', { obs: new Float32Array(6), small: [1, 2], count: [1, 2], note: [1, 2], x: [1, 2] }, 'EXPBUF_UNKNOWN_FIELD', "'x'"],
    ['a non-array column', { obs: new Float32Array(6), small: 'ab', count: [1, 2], note: [1, 2] }, 'EXPBUF_BAD_VALUE', "'small'"],
  ];
  it.each(cases)('%s', (_name, columns, code, names) => {
    const subject = kinds.reservoir();
    const twin = kinds.reservoir();
    for (const b of [subject, twin]) for (let i = 0; i < 11; i++) b.add(good(i) as never);
    expectError(() => subject.addBatch(columns as never), code, names);
    expect(subject.totalAdded).toBe(twin.totalAdded);
    expect(subject.getData()).toEqual(twin.getData());
    expect(subject.sample(16)).toEqual(twin.sample(16));
  });
});

describe('a bad collect changes nothing in the queue', () => {
  it.each(badSteps)('%s', (_name, mutate, code, names) => {
    const subject = new DataUser(new SequentialBuffer(schema, 100), { maxQueueSize: 4 });
    for (let i = 0; i < 6; i++) subject.collector.collect(good(i) as never);
    expectError(() => subject.collector.collect(mutate(good(99)) as never), code, names);
    expect(() => subject.collector.collectBatch({ obs: [1, 2, 3], small: [1], count: [1], note: [1, 2] })).toThrow(
      expect.objectContaining({ code: 'EXPBUF_BAD_VALUE' }),
    );
    expect(subject.collector.droppedCount).toBe(2);
    subject.update();
    expect([...(subject.buffer.getData() as { count: Uint16Array }).count]).toEqual([2, 3, 4, 5]);
    expect(subject.countDataAddedSince(-Infinity)).toBe(4);
  });
});

describe('the generated encoder and the generic checks agree on every step', () => {
  const layout = layoutOf(schema);
  const encode = encoderFor(layout);
  const columns = () => layout.typed.map((f) => new f.ctor(f.elements));
  /** The generic path, as the encoder's `slow` runs it (ts/rows/encoder.ts): the object, then each field in order. */
  const generic = (step: unknown, cols: ReturnType<typeof columns>): void => {
    checkObject(layout, step, 'step');
    layout.typed.forEach((f, i) => {
      writeValue(f, step[f.name], cols[i], 0);
    });
    layout.any.forEach((f) => {
      serializeValue(f, step[f.name]);
    });
  };
  /** What `fn` threw (its code and message), or the columns it wrote. */
  const outcome = (fn: (cols: ReturnType<typeof columns>) => void) => {
    const cols = columns();
    try {
      fn(cols);
    } catch (e) {
      return { code: (e as { code?: string }).code, message: (e as Error).message };
    }
    return { cols };
  };
  const compare = (step: unknown) => {
    const slow = outcome((cols) => generic(step, cols));
    const fast = outcome((cols) => encode(step, 0, cols, [new Uint8Array(0)]));
    expect(fast).toEqual(slow);
    return slow;
  };
  // Steps whose keys are as many as the fields, so the encoder's own checks run, not its fallback to the generic path.
  const sameCount: typeof badSteps = [
    ['a field renamed', ({ count: _c, ...rest }) => ({ ...rest, cnt: 1 }), 'EXPBUF_UNKNOWN_FIELD', "'cnt'"],
    ['a typed field renamed, another field bad', ({ obs: _o, ...rest }) => ({ ...rest, ob: [1, 2, 3], small: 1000 }), 'EXPBUF_UNKNOWN_FIELD', "'ob'"],
    ['an any field renamed, a typed field bad', ({ note: _n, ...rest }) => ({ ...rest, nota: 1, count: -1 }), 'EXPBUF_UNKNOWN_FIELD', "'nota'"],
    ['a field inherited, not its own', ({ note, ...rest }) => Object.assign(Object.create({ note }) as object, rest), 'EXPBUF_MISSING_FIELD', "'note'"],
    ['a typed field inherited, not its own', ({ obs, ...rest }) => Object.assign(Object.create({ obs }) as object, rest), 'EXPBUF_MISSING_FIELD', "'obs'"],
  ];
  it.each([...badSteps, ...sameCount])('refuses %s with the same code and message', (_name, mutate, code, names) => {
    const slow = compare(mutate(good(99)));
    expect(slow).toMatchObject({ code });
    expect((slow as { message: string }).message).toContain(names);
  });
  class Instance {
    constructor(
      readonly obs: unknown,
      readonly small: unknown,
      readonly count: unknown,
      readonly note: unknown,
    ) {}
  }
  const accepted: [string, unknown][] = [
    ['a plain step', good(7)],
    ['a Float32Array', { ...good(7), obs: Float32Array.of(1, 2, 3) }],
    ['a typed array of another dtype', { ...good(7), obs: Int16Array.of(1, 2, 3) }],
    ['a class instance', new Instance([1, 2, 3], -5, 65535, 'x')],
    ['an object without a prototype', Object.assign(Object.create(null) as object, good(7))],
  ];
  it.each(accepted)('accepts %s, writing the same values', (_name, step) => {
    expect(compare(step)).toHaveProperty('cols');
  });
});

describe('bad constructor arguments', () => {
  const sizes: [string, number][] = [
    ['0', 0],
    ['negative', -5],
    ['fractional', 2.5],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['above the cap', 2 ** 31],
  ];
  it.each(sizes)('maxSize %s', (_name, size) => {
    for (const make of [
      () => new SequentialBuffer(['x'], size),
      () => new RandomReplacementBuffer(['x'], size),
      () => new ReservoirBuffer({ x: 'float32' }, size),
    ]) {
      expectError(make, 'EXPBUF_INVALID_ARGUMENT', 'maxSize');
    }
  });

  it.each([[-0.1], [1.01], [NaN], [Infinity]])('replaceProbability %s', (p) => {
    expectError(() => new RandomReplacementBuffer(['x'], 10, { replaceProbability: p }), 'EXPBUF_INVALID_ARGUMENT', 'replaceProbability');
  });

  it('both replaceProbability and expectedSurvivalLength', () => {
    expectError(
      () => new RandomReplacementBuffer(['x'], 10, { replaceProbability: 0.5, expectedSurvivalLength: 100 }),
      'EXPBUF_INVALID_ARGUMENT',
      'expectedSurvivalLength',
    );
  });

  it('bad survival length, seed, schema, queue size', () => {
    expectError(() => new RandomReplacementBuffer(['x'], 10, { expectedSurvivalLength: 0 }), 'EXPBUF_INVALID_ARGUMENT', 'expectedSurvivalLength');
    expectError(() => new SequentialBuffer(['x'], 10, { seed: -1 }), 'EXPBUF_INVALID_ARGUMENT', 'seed');
    expectError(() => new SequentialBuffer(['x'], 10, { seed: 1.5 }), 'EXPBUF_INVALID_ARGUMENT', 'seed');
    expectError(() => new SequentialBuffer({ x: 'float16' as never }, 10), 'EXPBUF_INVALID_ARGUMENT', "'x'");
    expectError(() => new SequentialBuffer({ x: { dtype: 'int8', shape: [0] } }, 10), 'EXPBUF_INVALID_ARGUMENT', "'x'");
    expectError(() => new SequentialBuffer([], 10), 'EXPBUF_INVALID_ARGUMENT', 'fields');
    expectError(() => new SequentialBuffer(['x', 'x'], 10), 'EXPBUF_INVALID_ARGUMENT', "'x'");
    expectError(() => new DataUser(new SequentialBuffer(['x'], 10), { maxQueueSize: 0 }), 'EXPBUF_INVALID_ARGUMENT', 'maxQueueSize');
  });
});

describe('bad sampling', () => {
  it.each(Object.entries(kinds))('%s: empty buffer, too many without replacement, bad sizes', (_kind, make) => {
    const b = make();
    expectError(() => b.sample(4), 'EXPBUF_EMPTY', 'batchSize');
    for (let i = 0; i < 5; i++) b.add(good(i) as never);
    const twin = make();
    for (let i = 0; i < 5; i++) twin.add(good(i) as never);
    expectError(() => b.sample(6, { replacement: false }), 'EXPBUF_INVALID_ARGUMENT', 'batchSize');
    for (const n of [0, -1, 1.5, NaN, Infinity]) expectError(() => b.sample(n), 'EXPBUF_INVALID_ARGUMENT', 'batchSize');
    expect(b.sample(5, { replacement: false })).toEqual(twin.sample(5, { replacement: false }));
  });
});

describe('acquire', () => {
  it('twice, and an unknown name', () => {
    const users = DataUsersDict.fromDataBuffers({ a: new SequentialBuffer(['x'], 5) });
    users.dataCollectorsDict.acquire('a');
    expectError(() => users.dataCollectorsDict.acquire('a'), 'EXPBUF_ALREADY_ACQUIRED', "'a'");
    expectError(() => users.dataCollectorsDict.acquire('b' as 'a'), 'EXPBUF_NOT_FOUND', "'b'");
  });
});

describe('sizes beyond this machine’s memory are errors, not crashes', () => {
  it('a buffer whose columns cannot be allocated', () => {
    expectError(() => new SequentialBuffer({ big: { dtype: 'float64', shape: [2 ** 24] } }, 2 ** 31 - 1), 'EXPBUF_INVALID_ARGUMENT', 'maxSize');
  });

  it('a sample batch beyond the call limit is refused before any allocation or draw', () => {
    const big = { v: { dtype: 'float64', shape: [2 ** 20] } } as const;
    const subject = new ReservoirBuffer(big, 2, { seed: 9 });
    const twin = new ReservoirBuffer(big, 2, { seed: 9 });
    for (const b of [subject, twin]) b.addBatch({ v: new Float64Array(2 * 2 ** 20) });
    expectError(() => subject.sample(2 ** 31 - 1), 'EXPBUF_INVALID_ARGUMENT', 'more than one call may return');
    expect(subject.sample(3)).toEqual(twin.sample(3));
  });
});

describe('handles and closed objects', () => {
  it('a collector used after close() throws EXPBUF_CLOSED and its rows stay queued', () => {
    const user = new DataUser(new SequentialBuffer(['x'], 10));
    const c = user.collector;
    c.collect({ x: 1 });
    c.close();
    expectError(() => c.collect({ x: 2 }), 'EXPBUF_CLOSED', 'collector');
    expectError(() => c.collectBatch({ x: [2] }), 'EXPBUF_CLOSED', 'collector');
    expectError(() => c.handle(), 'EXPBUF_CLOSED', 'collector');
    user.update();
    expect(user.getData()).toEqual({ x: [1] });
  });

  it('a closed buffer throws EXPBUF_CLOSED; its handle no longer attaches', () => {
    const b = new SequentialBuffer({ x: 'int32' }, 10);
    const h = b.handle();
    b.close();
    expectError(() => b.add({ x: 1 }), 'EXPBUF_CLOSED', 'buffer');
    expectError(() => b.size, 'EXPBUF_CLOSED', 'buffer');
    expectError(() => SequentialBuffer.fromHandle(h), 'EXPBUF_CLOSED', 'handle');
  });

  it('malformed handles and handles of another kind are refused', () => {
    const b = new ReservoirBuffer({ x: 'int32' }, 10);
    expectError(() => SequentialBuffer.fromHandle(b.handle() as never), 'EXPBUF_INVALID_ARGUMENT', 'reservoir');
    expectError(() => DataCollector.fromHandle({ kind: 'nope' } as never), 'EXPBUF_INVALID_ARGUMENT', 'handle');
    expectError(() => DataCollector.fromHandle(b.handle() as never), 'EXPBUF_INVALID_ARGUMENT', 'handle');
    const attached = ReservoirBuffer.fromHandle(b.handle());
    attached.add({ x: 5 });
    expect(b.getData().x).toEqual(Int32Array.from([5]));
    expect(attached.totalAdded).toBe(1);
    b.close();
    attached.close();
  });

  it('garbage collection releases what close() would', async () => {
    const gc = globalThis.gc as () => void;
    expect(typeof gc).toBe('function');
    gc();
    await new Promise((r) => setImmediate(r));
    const base = registrySize();
    (() => {
      const b = new SequentialBuffer({ x: 'int32' }, 1000);
      const u = new DataUser(b);
      u.collector.collect({ x: 1 });
      u.update();
    })();
    expect(registrySize()).toBe(base + 2);
    for (let i = 0; i < 5 && registrySize() > base; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    expect(registrySize()).toBe(base);
  });
});
