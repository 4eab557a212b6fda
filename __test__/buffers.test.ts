import { describe, expect, it } from 'vitest';
import { RandomReplacementBuffer, ReservoirBuffer, SequentialBuffer } from '../ts/index.js';

const schema = { obs: { dtype: 'float32', shape: [2, 2] }, action: 'int32', reward: 'float64' } as const;

function step(i: number) {
  return { obs: [i, i + 0.5, -i, 1], action: i, reward: i / 10 };
}

describe('SequentialBuffer (pamiq-core behaviours)', () => {
  it('adds, reports size and returns field-named columns', () => {
    const b = new SequentialBuffer(['state', 'action', 'reward'], 100);
    b.add({ state: [0.1, 0.2], action: 1, reward: 0.5 });
    expect(b.size).toBe(1);
    expect(b.collectingDataNames).toEqual(['state', 'action', 'reward']);
    expect(b.maxSize).toBe(100);
    expect(b.getData()).toEqual({ state: [[0.1, 0.2]], action: [1], reward: [0.5] });
  });

  it('is FIFO and drops the oldest when full, across wrap-around', () => {
    const b = new SequentialBuffer(['x'], 3);
    for (let i = 0; i < 3; i++) b.add({ x: i });
    expect(b.getData().x).toEqual([0, 1, 2]);
    b.add({ x: 3 });
    expect(b.getData().x).toEqual([1, 2, 3]);
    for (let i = 4; i < 11; i++) b.add({ x: i });
    expect(b.getData().x).toEqual([8, 9, 10]);
    expect(b.size).toBe(3);
  });

  it('returns copies, never live views', () => {
    const b = new SequentialBuffer(schema, 4);
    b.add(step(1));
    const d = b.getData();
    d.obs[0] = 999;
    d.action[0] = 999;
    b.add(step(2));
    expect(b.getData().obs[0]).toBe(1);
    expect(d.action.length).toBe(1);
    const anyBuf = new SequentialBuffer(['v'], 4);
    const value = { nested: [1, 2] };
    anyBuf.add({ v: value });
    value.nested.push(3);
    const got = anyBuf.getData().v[0] as { nested: number[] };
    got.nested.push(4);
    expect(anyBuf.getData().v[0]).toEqual({ nested: [1, 2] });
  });

  it('stores typed fields row-major in their dtype', () => {
    const b = new SequentialBuffer(schema, 10);
    b.addBatch({ obs: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]), action: [3, 4], reward: new Float64Array([0.25, 0.5]) });
    b.add(step(9));
    const d = b.getData();
    expect(d.obs).toBeInstanceOf(Float32Array);
    expect(d.action).toBeInstanceOf(Int32Array);
    expect(d.reward).toBeInstanceOf(Float64Array);
    expect([...d.obs]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 9.5, -9, 1]);
    expect([...d.action]).toEqual([3, 4, 9]);
    expect([...d.reward]).toEqual([0.25, 0.5, 0.9]);
  });

  it('addBatch takes an array of per-row values too', () => {
    const b = new SequentialBuffer(schema, 10);
    b.addBatch({ obs: [[1, 2, 3, 4], new Float32Array([5, 6, 7, 8])], action: [1, 2], reward: [0, 1] });
    expect([...b.getData().obs]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('samples held rows, whole rows, reproducibly for a seed', () => {
    const make = () => {
      const b = new SequentialBuffer(schema, 50, { seed: 11 });
      for (let i = 0; i < 80; i++) b.add(step(i));
      return b;
    };
    const a = make();
    const s = a.sample(64);
    expect(s.action.length).toBe(64);
    for (let k = 0; k < 64; k++) {
      const i = s.action[k];
      expect(i).toBeGreaterThanOrEqual(30);
      expect([...s.obs.subarray(k * 4, k * 4 + 4)]).toEqual([i, i + 0.5, -i, 1]);
      expect(s.reward[k]).toBeCloseTo(i / 10, 12);
    }
    expect(make().sample(64)).toEqual(s);
    const distinct = a.sample(50, { replacement: false }).action;
    expect(new Set(distinct).size).toBe(50);
  });
});

describe('RandomReplacementBuffer', () => {
  it('computes the replace probability from the expected survival length as pamiq-core', () => {
    const gamma = 0.5772156649015329;
    for (const [m, l] of [
      [100, 1000],
      [1000, 100_000],
      [10, 50],
    ]) {
      const expected = Math.min(1, Math.max(0, (m / l) * (Math.log(m) + gamma)));
      expect(RandomReplacementBuffer.computeReplaceProbabilityFromExpectedSurvivalLength(m, l)).toBeCloseTo(expected, 12);
    }
    expect(RandomReplacementBuffer.computeReplaceProbabilityFromExpectedSurvivalLength(1000, 10)).toBe(1);
    const b = new RandomReplacementBuffer(['x'], 100, { expectedSurvivalLength: 1000 });
    expect(b.replaceProbability).toBeCloseTo(0.1 * (Math.log(100) + gamma), 12);
  });

  it('appends until full, then keeps maxSize rows', () => {
    const b = new RandomReplacementBuffer(['x'], 5, { seed: 3 });
    for (let i = 0; i < 5; i++) {
      expect(b.isFull).toBe(false);
      b.add({ x: i });
    }
    expect(b.isFull).toBe(true);
    expect(b.getData().x).toEqual([0, 1, 2, 3, 4]);
    for (let i = 5; i < 100; i++) b.add({ x: i });
    expect(b.size).toBe(5);
    expect(b.getData().x).toContain(99); // p = 1: the newest row always lands
  });

  it('with probability 0 never replaces once full', () => {
    const b = new RandomReplacementBuffer(['x'], 3, { replaceProbability: 0 });
    for (let i = 0; i < 50; i++) b.add({ x: i });
    expect(b.getData().x).toEqual([0, 1, 2]);
  });

  it('with probability 0.3 still turns over every original row eventually', () => {
    const b = new RandomReplacementBuffer({ x: 'int32' }, 100, { replaceProbability: 0.3, seed: 5 });
    b.addBatch({ x: Int32Array.from({ length: 100 }, (_, i) => i) });
    const n = 20_000;
    b.addBatch({ x: Int32Array.from({ length: n }, (_, i) => 1000 + i) });
    // An original row survives 20,000 adds with probability (1 - 0.3/100)^20000 ≈ e^-60.
    const held = b.getData().x;
    expect(held.length).toBe(100);
    expect([...held].filter((x) => x < 100).length).toBe(0);
  });
});

describe('ReservoirBuffer', () => {
  it('counts every row added and holds maxSize of them', () => {
    const b = new ReservoirBuffer({ x: 'uint32' }, 10, { seed: 1 });
    b.addBatch({ x: Uint32Array.from({ length: 1000 }, (_, i) => i) });
    expect(b.totalAdded).toBe(1000);
    expect(b.size).toBe(10);
    const held = [...b.getData().x];
    expect(new Set(held).size).toBe(10);
    expect(held.every((x) => x < 1000)).toBe(true);
  });

  it('holds early and late rows alike (uniform over the stream)', () => {
    let early = 0;
    const trials = 400;
    for (let seed = 0; seed < trials; seed++) {
      const b = new ReservoirBuffer({ x: 'int32' }, 10, { seed });
      b.addBatch({ x: Int32Array.from({ length: 100 }, (_, i) => i) });
      early += [...b.getData().x].filter((x) => x < 50).length;
    }
    // Expected half of 4000 held rows are from the first half: binomial sd ≈ 32.
    expect(Math.abs(early - 2000)).toBeLessThan(160);
  });
});
