/**
 * `ReplayBuffer` in memory: transitions, n-step returns, priorities, sequences, the
 * rate limiter and saved state, checked against the plain model of the formulas
 * (`reference/replay-model.ts`) and against never-saved twins.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ReplayBuffer, type ExpbufError, type ReplayBufferOptions, type ReplayStep } from '../ts/index.js';
import { ReplayModel, type ModelStep } from '../reference/replay-model.js';
import { PYTHON } from './setup/global.js';
import { corruptCopy } from './support/corrupt.js';

const root = mkdtempSync(join(tmpdir(), 'expbuf-replay-mem-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const fresh = () => join(root, `s${dirs++}`);

const schema = { state: { dtype: 'float32', shape: [2] }, action: 'int32', reward: 'float32' } as const;
type S = typeof schema;
type Options = Omit<ReplayBufferOptions<S>, 'schema' | 'pool'>;

const make = (o: Options) => new ReplayBuffer({ schema, ...o });

function lcg(seed: number): (k: number) => number {
  let s = seed >>> 0;
  return (k) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % k;
  };
}

/**
 * `count` steps of `envs` envs interleaved at random, episodes ending at random
 * (terminated or truncated). State [env, t]; a step's nextState is the next state.
 */
function stream(count: number, envs: number, seed: number): ModelStep[] {
  const rand = lcg(seed);
  const t = new Array<number>(envs).fill(0);
  const out: ModelStep[] = [];
  for (let i = 0; i < count; i++) {
    const env = rand(envs);
    const end = rand(8) === 0;
    const terminated = end && rand(2) === 0;
    out.push({ state: [env, t[env]], action: i, reward: (rand(100) - 50) / 8, nextState: [env, t[env] + 1], terminated, truncated: end && !terminated, env });
    t[env] = end ? 0 : t[env] + 1;
  }
  return out;
}

const asStep = (m: ModelStep): ReplayStep<S> => ({ ...m });

/** Checks a sample against the model: the same ids (uniform draws) and each transition's formulas. */
function expectModel(b: ReturnType<ReplayBuffer<S>['sample']>, model: ReplayModel, ids: number[]): void {
  expect([...b.ids]).toEqual(ids);
  ids.forEach((id, k) => {
    const m = model.transition(id);
    expect([b.state[2 * k], b.state[2 * k + 1]]).toEqual(m.state);
    expect(b.action[k]).toBe(m.action);
    expect(b.reward[k]).toBe(m.reward);
    expect([b.nextState[2 * k], b.nextState[2 * k + 1]]).toEqual(m.nextState);
    expect(b.done[k]).toBe(m.done);
    expect(b.discount[k]).toBeCloseTo(m.discount, 6);
    expect(b.weights[k]).toBe(1);
  });
}

describe('transitions against the model', () => {
  for (const [nStep, maxSize, envs] of [
    [1, 50, 1],
    [1, 37, 4],
    [3, 64, 3],
    [5, 23, 5],
  ] as const) {
    it(`nStep ${nStep}, maxSize ${maxSize}, ${envs} envs: same ids, states, n-step returns, done and discount, also after wrapping`, () => {
      const gamma = 0.9;
      const rb = make({ maxSize, nStep, gamma, seed: 11 });
      const model = new ReplayModel(maxSize, nStep, gamma, 11);
      const steps = stream(400, envs, nStep * 100 + envs);
      let i = 0;
      for (const chunk of [7, 1, 60, 2, 150, 180]) {
        // Alternate add() and addBatch() so both paths feed the same episodes.
        const part = steps.slice(i, i + chunk);
        if (chunk % 2 === 1) for (const s of part) rb.add(asStep(s));
        else
          rb.addBatch({
            state: part.flatMap((s) => s.state),
            action: part.map((s) => s.action),
            reward: part.map((s) => s.reward),
            nextState: part.flatMap((s) => s.nextState),
            terminated: part.map((s) => s.terminated),
            truncated: part.map((s) => s.truncated),
            env: part.map((s) => s.env),
          });
        for (const s of part) model.add(s);
        i += chunk;
        expect(rb.size).toBe(model.size);
        expectModel(rb.sample(64), model, model.draw(64));
      }
      expect(rb.stats.inserted).toBe(400);
    });
  }

  it('termination does not bootstrap, truncation does (its final state is kept), nothing crosses an env', () => {
    const rb = make({ maxSize: 100, nStep: 3, gamma: 0.5, seed: 1 });
    // env 0: a 2-step episode that terminates; env 1: a 4-step one that is truncated; interleaved.
    rb.add({ state: [0, 0], action: 0, reward: 1, nextState: [0, 1], terminated: false, env: 0 });
    rb.add({ state: [1, 0], action: 10, reward: 2, nextState: [1, 1], terminated: false, env: 1 });
    rb.add({ state: [0, 1], action: 1, reward: 1, nextState: [0, 99], terminated: true, env: 0 });
    for (let t = 1; t < 4; t++)
      rb.add({ state: [1, t], action: 10 + t, reward: 2, nextState: [1, t === 3 ? 77 : t + 1], terminated: false, truncated: t === 3, env: 1 });
    const b = rb.sample(400);
    const seen = new Set<number>();
    for (let k = 0; k < 400; k++) {
      const [env, t] = [b.state[2 * k], b.state[2 * k + 1]];
      seen.add(b.action[k]);
      const next = [b.nextState[2 * k], b.nextState[2 * k + 1]];
      if (env === 0) {
        expect(b.done[k]).toBe(1);
        expect(next).toEqual([0, 99]);
        expect(b.reward[k]).toBe(t === 0 ? 1 + 0.5 : 1);
        expect(b.discount[k]).toBe(t === 0 ? 0.25 : 0.5);
      } else {
        // Truncated: done 0, and the window ends at the kept final state [1, 77].
        expect(b.done[k]).toBe(0);
        const K = Math.min(3, 4 - t);
        expect(next).toEqual(t + K === 4 ? [1, 77] : [1, t + K]);
        expect(b.reward[k]).toBeCloseTo([2, 3, 3.5][K - 1], 6);
        expect(b.discount[k]).toBe(0.5 ** K);
      }
    }
    expect([...seen].sort((a, c) => a - c)).toEqual([0, 1, 10, 11, 12, 13]);
  });

  it('a step is sampleable once its n-step window is known; an episode going on bootstraps from its newest step', () => {
    const rb = make({ maxSize: 10, nStep: 3, gamma: 1, seed: 2 });
    rb.add({ state: [0, 0], action: 0, reward: 1, nextState: [0, 1], terminated: false });
    rb.add({ state: [0, 1], action: 1, reward: 1, nextState: [0, 2], terminated: false });
    expect(() => rb.sample(1)).toThrow(expect.objectContaining({ code: 'EXPBUF_EMPTY' }));
    expect(rb.canSample(1)).toBe(false);
    rb.add({ state: [0, 2], action: 2, reward: 1, nextState: [0, 3], terminated: false });
    const b = rb.sample(20);
    expect(new Set(b.action)).toEqual(new Set([0]));
    expect([...b.nextState.subarray(0, 2)]).toEqual([0, 3]);
    expect(b.reward[0]).toBe(3);
  });
});

describe('prioritized replay', () => {
  it('frequencies follow p^α / Σ p^α (chi-square, fixed seed) and weights are (N·P(i))^−β over the largest', () => {
    const alpha = 0.7;
    const beta = 0.5;
    const rb = make({ maxSize: 8, seed: 5, priority: { alpha, beta, epsilon: 1e-6 } });
    for (let i = 0; i < 8; i++) rb.add({ state: [i, 0], action: i, reward: 0, nextState: [i, 1], terminated: true, env: i });
    const p = [1, 2, 3, 4, 5, 6, 7, 8].map((x) => x * 0.5);
    expect(rb.updatePriorities(Float64Array.from([0, 1, 2, 3, 4, 5, 6, 7]), Float32Array.from(p))).toBe(8);
    const q = p.map((x) => (x + 1e-6) ** alpha);
    const total = q.reduce((a, x) => a + x, 0);
    const draws = 40_000;
    const counts = new Array<number>(8).fill(0);
    const weightOf = new Map<number, number>();
    for (let r = 0; r < draws / 256; r++) {
      const b = rb.sample(256);
      for (let k = 0; k < 256; k++) {
        counts[b.ids[k]]++;
        weightOf.set(b.ids[k], b.weights[k]);
      }
    }
    const n = Math.floor(draws / 256) * 256;
    const chi = counts.reduce((a, c, i) => a + (c - (n * q[i]) / total) ** 2 / ((n * q[i]) / total), 0);
    // df 7: P(χ² > 24.32) = 0.001.
    expect(chi).toBeLessThan(24.32);
    const minP = Math.min(...q) / total;
    for (const [id, w] of weightOf) expect(w).toBeCloseTo((8 * (q[id] / total)) ** -beta / (8 * minP) ** -beta, 5);
    expect(Math.max(...weightOf.values())).toBeCloseTo(1, 6);
    // β changes the weights of the next samples.
    rb.beta = 1;
    expect(rb.beta).toBe(1);
    const b = rb.sample(64);
    for (let k = 0; k < 64; k++) expect(b.weights[k]).toBeCloseTo(minP / (q[b.ids[k]] / total), 5);
  });

  it('new steps get the largest priority so far; updates to overwritten ids are ignored; an id never given is refused', () => {
    const rb = make({ maxSize: 4, seed: 6, priority: { alpha: 1 } });
    for (let i = 0; i < 4; i++) rb.add({ state: [i, 0], action: i, reward: 0, nextState: [i, 1], terminated: true, env: i });
    expect(rb.updatePriorities([0, 1, 2, 3], [1, 1, 1, 100])).toBe(4);
    // Step 4 overwrites step 0 and gets priority 100 (the largest so far).
    rb.add({ state: [4, 0], action: 4, reward: 0, nextState: [4, 1], terminated: true, env: 4 });
    const counts = new Map<number, number>();
    for (const id of rb.sample(4000).ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect(counts.has(0)).toBe(false);
    // Steps 3 and 4 (priority 100 each) against 1 and 2 (1 each): ~99% of draws.
    expect(((counts.get(3) ?? 0) + (counts.get(4) ?? 0)) / 4000).toBeGreaterThan(0.97);
    // Id 0 was overwritten: ignored, the rest applied.
    expect(rb.updatePriorities([0, 4], [5, 1])).toBe(1);
    const before = rb.stats;
    expect(() => rb.updatePriorities([5], [1])).toThrow(
      expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('ids[0]') }),
    );
    expect(rb.stats).toEqual(before);
  });
});

describe('sequences', () => {
  it('windows never cross an episode or an env; masks mark padding; padding is zero', () => {
    const rb = make({ maxSize: 200, seed: 3 });
    const model = new ReplayModel(200, 1, 0.99, 3);
    for (const s of stream(300, 3, 42)) {
      rb.add(asStep(s));
      model.add(s);
    }
    const L = 6;
    const b = rb.sampleSequences(50, L);
    expect(b.state.length).toBe(50 * L * 2);
    expect(b.mask.length).toBe(50 * L);
    for (let i = 0; i < 50; i++) {
      const window = model.window(b.ids[i], L);
      for (let j = 0; j < L; j++) {
        const c = i * L + j;
        const real = j < window.length;
        expect(b.mask[c]).toBe(real ? 1 : 0);
        const want = real ? model.steps[window[j]] : { state: [0, 0], action: 0, reward: 0 };
        expect([b.state[2 * c], b.state[2 * c + 1]]).toEqual(want.state);
        expect(b.action[c]).toBe(want.action);
        expect(b.reward[c]).toBe(Math.fround(want.reward));
      }
    }
    expect(rb.stats.sampled).toBe(50 * L);
  });

  it('whole episodes padded to the longest, with their ends', () => {
    const rb = make({ maxSize: 100, seed: 4 });
    for (const [env, len, terminated] of [
      [0, 3, true],
      [1, 5, false],
    ] as const) {
      for (let t = 0; t < len; t++)
        rb.add({
          state: [env, t],
          action: t,
          reward: 1,
          nextState: [env, t + 1],
          terminated: terminated && t === len - 1,
          truncated: !terminated && t === len - 1,
          env,
        });
    }
    const e = rb.sampleEpisodes(10);
    expect(e.T).toBe(Math.max(...e.lengths));
    for (let i = 0; i < 10; i++) {
      const env = e.state[i * e.T * 2];
      expect(e.lengths[i]).toBe(env === 0 ? 3 : 5);
      expect(e.terminated[i]).toBe(env === 0 ? 1 : 0);
      expect([...e.finalState.subarray(2 * i, 2 * i + 2)]).toEqual([env, e.lengths[i]]);
      for (let t = 0; t < e.T; t++) expect(e.mask[i * e.T + t]).toBe(t < e.lengths[i] ? 1 : 0);
    }
  });
});

describe('rate limiter', () => {
  const limited = (seed: number) => make({ maxSize: 100, batchSize: 4, seed, rateLimit: { minSize: 10, samplesPerInsert: 2, tolerance: 5 } });
  const one = (rb: ReplayBuffer<S>, i: number) => rb.add({ state: [i, 0], action: i, reward: 0, nextState: [i, 1], terminated: true, env: 0 });

  it('allows exactly S + n ≤ spi · (I − minSize) + tolerance; a refused sample changes nothing and draws nothing', () => {
    const rb = limited(8);
    const twin = limited(8);
    for (let i = 0; i < 9; i++)
      [rb, twin].forEach((b) => {
        one(b, i);
      });
    expect(rb.canSample(1)).toBe(false);
    expect(() => rb.sample(1)).toThrow(expect.objectContaining({ code: 'EXPBUF_RATE_LIMITED' }));
    for (let i = 9; i < 12; i++)
      [rb, twin].forEach((b) => {
        one(b, i);
      });
    // I = 12: 2 · 2 + 5 = 9 steps may be sampled in all.
    expect(rb.canSample(9)).toBe(true);
    expect(rb.canSample(10)).toBe(false);
    expect(() => rb.sample(10)).toThrow(expect.objectContaining({ code: 'EXPBUF_RATE_LIMITED', message: expect.stringContaining('12 inserted, 0 sampled') }));
    expect(rb.stats).toEqual({ size: 12, inserted: 12, sampled: 0, episodes: 12 });
    // The refused calls spent no draw: the next allowed sample equals the twin's.
    expect([...rb.sample(5).ids]).toEqual([...twin.sample(5).ids]);
    expect(rb.canSample(4)).toBe(true);
    expect(rb.canSample(5)).toBe(false);
    // Inserts: 2 · (I + 1 − 10) − S ≤ 5. At I = 12, S = 5: 6 − 5 = 1.
    expect(rb.canInsert()).toBe(true);
    rb.sample(4);
    // S = 9: still allowed; one insert later 2·4 − 9 = −1.
    expect(rb.canInsert()).toBe(true);
    const fresh = limited(9);
    for (let i = 0; i < 12; i++) one(fresh, i);
    // S = 0, I = 12: 2 · 3 − 0 = 6 > 5.
    expect(fresh.canInsert()).toBe(false);
  });

  it('options that can never allow a first sample are refused', () => {
    expect(() => make({ maxSize: 10, batchSize: 8, rateLimit: { minSize: 5, samplesPerInsert: 4, tolerance: 5.9 } })).toThrow(
      expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('options.rateLimit.tolerance') }),
    );
    expect(() => make({ maxSize: 10, rateLimit: { minSize: 0, samplesPerInsert: 1, tolerance: 1000 } })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('options.rateLimit.minSize') }),
    );
  });

  it('sampleAsync waits without blocking the event loop; times out with EXPBUF_RATE_LIMITED; a close rejects with EXPBUF_CLOSED', async () => {
    const rb = limited(10);
    for (let i = 0; i < 9; i++) one(rb, i);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 2);
    const waiting = rb.sampleAsync(4);
    setTimeout(() => {
      for (let i = 9; i < 12; i++) one(rb, i);
    }, 40);
    const b = await waiting;
    clearInterval(timer);
    expect(b.ids.length).toBe(4);
    expect(ticks).toBeGreaterThan(3);
    const t0 = performance.now();
    await expect(rb.sampleAsync(100, { timeoutMs: 30 })).rejects.toMatchObject({ code: 'EXPBUF_RATE_LIMITED' });
    // Not a moment early, although timers count from the event loop's cached time.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(30);
    await expect(rb.sampleAsync(4, { timeoutMs: -1 })).rejects.toMatchObject({
      code: 'EXPBUF_INVALID_ARGUMENT',
      message: expect.stringContaining('timeoutMs'),
    });
    const pending = rb.sampleAsync(100);
    const insert = rb.insertAllowed();
    await rb.close();
    await expect(pending).rejects.toMatchObject({ code: 'EXPBUF_CLOSED' });
    await expect(insert).resolves.toBeUndefined();
  });

  it('insertAllowed resolves once samples make room', async () => {
    const rb = limited(12);
    for (let i = 0; i < 13; i++) one(rb, i);
    // I = 13, S = 0: 2 · 4 − 0 = 8 > 5.
    expect(rb.canInsert()).toBe(false);
    const allowed = rb.insertAllowed({ timeoutMs: 5000 });
    setTimeout(() => rb.sample(4), 20);
    await allowed;
    expect(rb.canInsert()).toBe(true);
    await expect(
      (async () => {
        for (let i = 0; i < 10; i++) one(rb, 100 + i);
        await rb.insertAllowed({ timeoutMs: 10 });
      })(),
    ).rejects.toMatchObject({ code: 'EXPBUF_RATE_LIMITED' });
  });
});

describe('saved state', () => {
  const opts: Options = {
    maxSize: 40,
    nStep: 3,
    gamma: 0.9,
    seed: 21,
    priority: { alpha: 0.6, beta: 0.4 },
    rateLimit: { minSize: 5, samplesPerInsert: 4, tolerance: 200 },
  };

  it('a wrapped, prioritized, rate-limited buffer round-trips; further adds and samples equal the never-saved twin', async () => {
    const steps = stream(300, 4, 5);
    const rb = make(opts);
    const twin = make(opts);
    const feed = (from: number, to: number) => {
      for (const s of steps.slice(from, to))
        [rb, twin].forEach((b) => {
          b.add(asStep(s));
        });
    };
    feed(0, 130);
    for (const b of [rb, twin]) {
      const s = b.sample(16);
      b.updatePriorities(
        s.ids,
        Float32Array.from(s.ids, (id) => (id % 7) + 0.5),
      );
    }
    const dir = fresh();
    await rb.saveState(dir);
    const loaded = make({ ...opts, seed: 999 });
    loaded.add(asStep(steps[0]));
    await loaded.loadState(dir);
    expect(loaded.stats).toEqual(twin.stats);
    expect(loaded.getData()).toEqual(twin.getData());
    for (const [from, to] of [
      [130, 170],
      [170, 171],
      [171, 300],
    ]) {
      for (const s of steps.slice(from, to))
        [loaded, twin].forEach((b) => {
          b.add(asStep(s));
        });
      const a = loaded.sample(32);
      const b = twin.sample(32);
      expect(a).toEqual(b);
      expect(loaded.sampleSequences(4, 5)).toEqual(twin.sampleSequences(4, 5));
      for (const x of [loaded, twin])
        x.updatePriorities(
          a.ids,
          Float64Array.from(a.ids, (id) => id % 3),
        );
    }
    expect(loaded.canInsert()).toBe(twin.canInsert());
  });

  it('fuzz: 400 random corruptions either load the saved steps exactly or throw a code, never a partial load', async () => {
    const rb = make(opts);
    for (const s of stream(90, 3, 4)) rb.add(asStep(s));
    rb.updatePriorities(rb.sample(8).ids, [1, 2, 3, 4, 5, 6, 7, 8]);
    const good = fresh();
    await rb.saveState(good);
    const expected = rb.getData();
    const files = readdirSync(good);
    const rand = lcg(99);
    const target = make(opts);
    target.add(asStep(stream(1, 1, 2)[0]));
    const outcomes = { loaded: 0, refused: 0 };
    for (let trial = 0; trial < 400; trial++) {
      const dir = fresh();
      corruptCopy(good, files, dir, rand);
      const before = target.getData();
      const stats = target.stats;
      try {
        await target.loadState(dir);
        outcomes.loaded++;
        expect(target.getData()).toEqual(expected);
        target.clear();
        target.add(asStep(stream(1, 1, 2)[0]));
      } catch (e) {
        outcomes.refused++;
        expect((e as ExpbufError).code).toMatch(/^EXPBUF_(CORRUPT_STATE|SCHEMA_MISMATCH)$/);
        expect(target.getData()).toEqual(before);
        expect(target.stats).toEqual(stats);
      }
      rmSync(dir, { recursive: true });
    }
    expect(outcomes.refused).toBeGreaterThan(350);
  });

  it('numpy reads the steps, links and priorities (p^α, oldest first)', async () => {
    const rb = make({ maxSize: 6, seed: 2, priority: { alpha: 0.5, epsilon: 1e-6 } });
    for (let i = 0; i < 9; i++) rb.add({ state: [i, 0], action: i, reward: i, nextState: [i + 1, 0], terminated: i % 4 === 3 });
    const ids = [3, 4, 5, 6, 7, 8];
    rb.updatePriorities(ids, [4, 9, 16, 25, 36, 49]);
    const dir = fresh();
    await rb.saveState(dir);
    const script = 'import sys, json, numpy as np\nprint(json.dumps({f: np.load(sys.argv[1] + "/" + f).tolist() for f in sys.argv[2:]}))';
    const got = JSON.parse(
      execFileSync(PYTHON, ['-c', script, dir, '001_action.npy', 'replay_priority.npy', 'replay_link.npy'], { encoding: 'utf8' }),
    ) as Record<string, number[]>;
    expect(got['001_action.npy']).toEqual(ids);
    got['replay_priority.npy'].forEach((p, i) => {
      expect(p).toBeCloseTo(Math.sqrt([4, 9, 16, 25, 36, 49][i] + 1e-6), 6);
    });
    // Links name the next step's id; an episode's last step names its final state.
    expect(got['replay_link.npy'].slice(0, 4)).toEqual([0, 5, 6, 7]);
  });

  it('a state of other settings or fields is refused and changes nothing', async () => {
    const rb = make(opts);
    for (const s of stream(20, 2, 9)) rb.add(asStep(s));
    const dir = fresh();
    await rb.saveState(dir);
    const other = make({ ...opts, nStep: 2 });
    other.add(asStep(stream(1, 1, 1)[0]));
    const before = other.getData();
    await expect(other.loadState(dir)).rejects.toMatchObject({ code: 'EXPBUF_SCHEMA_MISMATCH' });
    expect(other.getData()).toEqual(before);
    const wide = new ReplayBuffer({ schema: { ...schema, extra: 'uint8' }, maxSize: 40 });
    await expect(wide.loadState(dir)).rejects.toMatchObject({ code: 'EXPBUF_SCHEMA_MISMATCH' });
  });
});

describe('bad input: a coded error naming the argument, nothing changed, no draw spent', () => {
  const good = (i: number): ReplayStep<S> => ({ state: [i, 0], action: i, reward: 1, nextState: [i, 1], terminated: i % 3 === 2, env: 0 });
  const cases: [string, (rb: ReplayBuffer<S>) => unknown, string, string][] = [
    ['a step without nextState', (rb) => rb.add({ state: [0, 0], action: 0, reward: 0, terminated: false } as never), 'EXPBUF_MISSING_FIELD', 'nextState'],
    ['a step without terminated', (rb) => rb.add({ state: [0, 0], action: 0, reward: 0, nextState: [0, 1] } as never), 'EXPBUF_MISSING_FIELD', 'terminated'],
    ['a nextState of the wrong shape', (rb) => rb.add({ ...good(0), nextState: [1, 2, 3] }), 'EXPBUF_BAD_VALUE', 'nextState'],
    ['a fractional env', (rb) => rb.add({ ...good(0), env: 1.5 }), 'EXPBUF_BAD_VALUE', 'env'],
    ['a negative env', (rb) => rb.add({ ...good(0), env: -1 }), 'EXPBUF_BAD_VALUE', 'env'],
    ['terminated 2', (rb) => rb.add({ ...good(0), terminated: 2 }), 'EXPBUF_BAD_VALUE', 'terminated'],
    [
      'a batch with a bad env in its last row',
      (rb) => rb.addBatch({ state: [0, 0, 1, 1], action: [0, 1], reward: [0, 0], nextState: [0, 1, 1, 2], terminated: [0, 0], env: [0, -3] }),
      'EXPBUF_BAD_VALUE',
      'env',
    ],
    [
      'a batch of typed columns with terminated 2',
      (rb) =>
        rb.addBatch({
          state: new Float32Array(4),
          action: new Int32Array(2),
          reward: new Float32Array(2),
          nextState: new Float32Array(4),
          terminated: Uint8Array.of(0, 2),
        }),
      'EXPBUF_BAD_VALUE',
      'terminated',
    ],
    [
      'a batch of typed columns of different row counts',
      (rb) =>
        rb.addBatch({
          state: new Float32Array(4),
          action: new Int32Array(2),
          reward: new Float32Array(3),
          nextState: new Float32Array(4),
          terminated: new Uint8Array(2),
        }),
      'EXPBUF_BAD_VALUE',
      'reward',
    ],
    ['updatePriorities with mismatched lengths', (rb) => rb.updatePriorities([0, 1], [1]), 'EXPBUF_INVALID_ARGUMENT', 'priorities'],
    ['a negative priority', (rb) => rb.updatePriorities([0, 1], [1, -1]), 'EXPBUF_INVALID_ARGUMENT', 'priorities[1]'],
    ['a NaN priority', (rb) => rb.updatePriorities([0], [NaN]), 'EXPBUF_INVALID_ARGUMENT', 'priorities[0]'],
    ['an infinite priority', (rb) => rb.updatePriorities([0], [Infinity]), 'EXPBUF_INVALID_ARGUMENT', 'priorities[0]'],
    ['an id that never existed', (rb) => rb.updatePriorities([1e6], [1]), 'EXPBUF_INVALID_ARGUMENT', 'ids[0]'],
    ['ids of another type', (rb) => rb.updatePriorities(new Int32Array([0]) as never, [1]), 'EXPBUF_INVALID_ARGUMENT', 'ids'],
    ['beta above 1', (rb) => (rb.beta = 1.5), 'EXPBUF_INVALID_ARGUMENT', 'beta'],
    ['sampleSequences of length 0', (rb) => rb.sampleSequences(2, 0), 'EXPBUF_INVALID_ARGUMENT', 'length'],
    ['sampleSequences longer than maxSize', (rb) => rb.sampleSequences(2, 21), 'EXPBUF_INVALID_ARGUMENT', 'length'],
    ['sample of 0', (rb) => rb.sample(0), 'EXPBUF_INVALID_ARGUMENT', 'batchSize'],
    ['sample of 1.5', (rb) => rb.sample(1.5), 'EXPBUF_INVALID_ARGUMENT', 'batchSize'],
    ['get past the end', (rb) => rb.get(99), 'EXPBUF_INVALID_ARGUMENT', 'index'],
  ];
  for (const [what, call, code, names] of cases) {
    it(what, () => {
      const opts = { maxSize: 20, seed: 3, priority: {} };
      const rb = make(opts);
      const twin = make(opts);
      for (let i = 0; i < 6; i++)
        [rb, twin].forEach((b) => {
          b.add(good(i));
        });
      const before = rb.getData();
      const stats = rb.stats;
      let err: ExpbufError | undefined;
      try {
        call(rb);
      } catch (e) {
        err = e as ExpbufError;
      }
      expect(err?.code).toBe(code);
      expect(err?.message).toContain(names);
      expect(rb.getData()).toEqual(before);
      expect(rb.stats).toEqual(stats);
      expect(rb.sample(8)).toEqual(twin.sample(8));
    });
  }

  it('options: nStep, gamma, alpha, beta, epsilon, maxSize, schema', () => {
    const bad: [Record<string, unknown>, string, string][] = [
      [{ nStep: 0 }, 'EXPBUF_INVALID_ARGUMENT', 'options.nStep'],
      [{ nStep: 1.5 }, 'EXPBUF_INVALID_ARGUMENT', 'options.nStep'],
      [{ gamma: -0.1 }, 'EXPBUF_INVALID_ARGUMENT', 'options.gamma'],
      [{ gamma: 1.01 }, 'EXPBUF_INVALID_ARGUMENT', 'options.gamma'],
      [{ priority: { alpha: -1 } }, 'EXPBUF_INVALID_ARGUMENT', 'options.priority.alpha'],
      [{ priority: { beta: 1.1 } }, 'EXPBUF_INVALID_ARGUMENT', 'options.priority.beta'],
      [{ priority: { epsilon: 0 } }, 'EXPBUF_INVALID_ARGUMENT', 'options.priority.epsilon'],
      [{ maxSize: 0 }, 'EXPBUF_INVALID_ARGUMENT', 'options.maxSize'],
      [{ maxSize: 1e12 }, 'EXPBUF_INVALID_ARGUMENT', 'options.maxSize'],
      [{ nstep: 3 }, 'EXPBUF_INVALID_ARGUMENT', "'nstep'"],
    ];
    for (const [o, code, name] of bad) {
      expect(() => new ReplayBuffer({ schema, maxSize: 10, ...o } as never)).toThrow(expect.objectContaining({ code, message: expect.stringContaining(name) }));
    }
    const schemas: [unknown, string][] = [
      [{ action: 'int32', reward: 'float32' }, "'state'"],
      [{ state: 'any', action: 'int32', reward: 'float32' }, "'state'"],
      [{ state: 'float32', reward: 'float32' }, "'action'"],
      [{ state: 'float32', action: 'int32', reward: { dtype: 'float32', shape: [2] } }, "'reward' must be a scalar"],
      [{ state: 'float32', action: 'int32', reward: 'float32', env: 'uint8' }, "'env'"],
    ];
    for (const [s, name] of schemas) {
      expect(() => new ReplayBuffer({ schema: s as never, maxSize: 10 })).toThrow(
        expect.objectContaining({ code: 'EXPBUF_SCHEMA_MISMATCH', message: expect.stringContaining(name) }),
      );
    }
    expect(() => new ReplayBuffer({ maxSize: 10 } as never)).toThrow(
      expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('schema') }),
    );
    expect(() => make({ maxSize: 4 }).sample()).toThrow(expect.objectContaining({ code: 'EXPBUF_EMPTY' }));
    expect(() => make({ maxSize: 4 }).sampleSequences(1, 1)).toThrow(expect.objectContaining({ code: 'EXPBUF_EMPTY' }));
    expect(() => make({ maxSize: 4 }).updatePriorities([], [])).toThrow(
      expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('options.priority') }),
    );
  });
});

describe('the rest of the buffer API', () => {
  it('getData, get, iteration, clear, stats, printing, a closed buffer', async () => {
    const rb = make({ maxSize: 3, seed: 1 });
    for (let i = 0; i < 5; i++) rb.add({ state: [i, 0], action: i, reward: i, nextState: [i + 1, 0], terminated: false, truncated: i === 4, env: 2 });
    const d = rb.getData();
    expect([...d.action]).toEqual([2, 3, 4]);
    expect([...d.nextState]).toEqual([3, 0, 4, 0, 5, 0]);
    expect([...d.truncated]).toEqual([0, 0, 1]);
    expect([...d.env]).toEqual([2, 2, 2]);
    expect(rb.get(0)).toMatchObject({ action: 2, terminated: 0, truncated: 0, env: 2 });
    expect([...rb].map((s) => s.action)).toEqual([2, 3, 4]);
    expect(rb.length).toBe(3);
    expect(rb.stats).toEqual({ size: 3, inserted: 5, sampled: 0, episodes: 0 });
    expect(inspect(rb)).toContain('ReplayBuffer');
    rb.clear();
    expect(rb.stats).toEqual({ size: 0, inserted: 0, sampled: 0, episodes: 0 });
    await rb.close();
    expect(() => rb.size).toThrow(expect.objectContaining({ code: 'EXPBUF_CLOSED' }));
    expect(() => rb.add({ state: [0, 0], action: 0, reward: 0, nextState: [0, 0], terminated: true })).toThrow(
      expect.objectContaining({ code: 'EXPBUF_CLOSED' }),
    );
  });
});
