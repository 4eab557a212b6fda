import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openPool, ReplayBuffer, type Pool } from '../ts/index.js';
import { ReplayModel } from '../reference/replay-model.js';

const root = mkdtempSync(join(tmpdir(), 'expbuf-replay-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const schema = { state: { dtype: 'float32', shape: [2] }, action: 'int32', reward: 'float32' } as const;
type S = typeof schema;

/** Episode `e` of `n` steps: state = [e, t], action = t, reward = e + t / 100. */
function ep(e: number, n: number) {
  return {
    id: `e${e}`,
    meta: { e },
    steps: {
      state: Float32Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? e : (i - 1) / 2)),
      action: Int32Array.from({ length: n }, (_, t) => t),
      reward: Float32Array.from({ length: n }, (_, t) => e + t / 100),
    },
  };
}

const lengths = [3, 1, 7, 4, 10, 2];
let n = 0;
/** Opens pool `key` (a fresh one when absent). */
const backends: [string, (key?: number) => Promise<Pool<S>>][] = [
  ['embedded', (key = n++) => openPool(join(root, `p${key}`), { schema })],
  ['postgres', (key = n++) => openPool(`${inject('pgUrl')}?pool=replay_${process.pid}_${key}`, { schema })],
];

describe.each(backends)('ReplayBuffer over the %s pool', (_name, open) => {
  it('loads episodes and samples transitions that never cross an episode boundary', async () => {
    const pool = await open();
    await pool.store(lengths.map((len, e) => ep(e, len)));
    await using rb = new ReplayBuffer({ pool, batchSize: 512, maxSize: 1000, seed: 3 });
    expect(await rb.load(undefined, { pageSize: 2 })).toBe(27);
    expect(rb.size).toBe(27);
    expect(rb.stats.episodes).toBe(6);
    const b = rb.sample();
    expect(b.state.length).toBe(1024);
    let dones = 0;
    for (let k = 0; k < 512; k++) {
      const [e, t] = [b.state[2 * k], b.state[2 * k + 1]];
      expect(b.action[k]).toBe(t);
      expect(b.reward[k]).toBeCloseTo(e + t / 100, 5);
      const last = t === lengths[e] - 1;
      // Items stored without `terminated` count as terminated episodes.
      expect(b.done[k]).toBe(last ? 1 : 0);
      expect(b.discount[k]).toBeCloseTo(0.99, 6);
      // The next state is the next step of the same episode; at the end (no final state stored), the step itself.
      expect([b.nextState[2 * k], b.nextState[2 * k + 1]]).toEqual(last ? [e, t] : [e, t + 1]);
      dones += b.done[k];
    }
    expect(dones).toBeGreaterThan(0);
  });

  it('keeps the boundaries when the ring has evicted the oldest rows', async () => {
    const pool = await open();
    await using rb = new ReplayBuffer({ pool, batchSize: 256, maxSize: 12, seed: 5 });
    for (const [e, len] of lengths.entries()) await rb.store(ep(e, len));
    expect(rb.size).toBe(12);
    expect(await pool.count()).toBe(6);
    // Rows held: the last 12 of 27: episode 4 from step 0 (10 steps) and episode 5 (2 steps).
    const b = rb.sample();
    for (let k = 0; k < 256; k++) {
      const [e, t] = [b.state[2 * k], b.state[2 * k + 1]];
      expect(e === 4 || e === 5).toBe(true);
      const last = t === lengths[e] - 1;
      expect([b.nextState[2 * k], b.nextState[2 * k + 1]]).toEqual(last ? [e, t] : [e, t + 1]);
    }
    expect(rb.stats.episodes).toBe(2);
  });

  it('a truncated episode with its final state bootstraps; n-step returns stop at its end', async () => {
    const key = n++;
    const options = { batchSize: 256, maxSize: 100, nStep: 2, gamma: 0.5, seed: 4 };
    const rb = new ReplayBuffer({ pool: await open(key), ...options });
    await rb.store({ ...ep(0, 3), finalState: [0, 42], terminated: false });
    await rb.store({ ...ep(1, 2), finalState: [1, 43], terminated: true });
    const a = rb.sample();
    const eps = rb.sampleEpisodes(8);
    await rb.close();
    // Loaded back from the pool into a new buffer, the same episodes give the same transitions.
    await using again = new ReplayBuffer({ pool: await open(key), ...options });
    expect(await again.load()).toBe(5);
    expect(again.sample()).toEqual(a);
    for (let k = 0; k < 256; k++) {
      const [e, t] = [a.state[2 * k], a.state[2 * k + 1]];
      const len = [3, 2][e];
      const K = Math.min(2, len - t);
      const next = t + K === len ? [e, 42 + e] : [e, t + K];
      expect([a.nextState[2 * k], a.nextState[2 * k + 1]]).toEqual(next);
      expect(a.done[k]).toBe(e === 1 && t + K === len ? 1 : 0);
      const r = (x: number) => Math.fround(e + x / 100);
      expect(a.reward[k]).toBeCloseTo(K === 2 ? r(t) + 0.5 * r(t + 1) : r(t), 5);
    }
    for (let i = 0; i < 8; i++) {
      const e = eps.state[i * eps.T * 2];
      expect(eps.terminated[i]).toBe(e);
      expect([...eps.finalState.subarray(2 * i, 2 * i + 2)]).toEqual([e, 42 + e]);
    }
  });

  it('differential: uniform nStep-1 samples of the pool-backed and the in-memory buffer equal the plain model', async () => {
    const pool = await open();
    const eps = lengths.map((len, e) => ({ ...ep(e, len), finalState: [e, 100 + e], terminated: e % 2 === 0 }));
    await pool.store(eps);
    const options = { batchSize: 128, maxSize: 20, seed: 77 };
    await using fromPool = new ReplayBuffer({ pool, ...options });
    await fromPool.load(undefined, { pageSize: 4 });
    const inMemory = new ReplayBuffer({ schema, ...options });
    const model = new ReplayModel(20, 1, 0.99, 77);
    for (const x of eps) {
      const len = x.steps.action.length;
      for (let t = 0; t < len; t++) {
        const state = [...x.steps.state.subarray(2 * t, 2 * t + 2)];
        const nextState = t + 1 < len ? [...x.steps.state.subarray(2 * t + 2, 2 * t + 4)] : x.finalState;
        const last = t === len - 1;
        const step = {
          state,
          action: x.steps.action[t],
          reward: x.steps.reward[t],
          nextState,
          terminated: last && x.terminated,
          truncated: last && !x.terminated,
          env: 0,
        };
        inMemory.add(step);
        model.add(step);
      }
    }
    for (let round = 0; round < 3; round++) {
      const a = fromPool.sample();
      expect(inMemory.sample()).toEqual(a);
      const ids = model.draw(128);
      expect([...a.ids]).toEqual(ids);
      ids.forEach((id, k) => {
        const m = model.transition(id);
        expect([a.state[2 * k], a.state[2 * k + 1]]).toEqual(m.state);
        expect([a.nextState[2 * k], a.nextState[2 * k + 1]]).toEqual(m.nextState);
        expect([a.action[k], a.reward[k], a.done[k]]).toEqual([m.action, m.reward, m.done]);
      });
    }
    await inMemory.close();
  });

  it('samples padded episodes with a mask', async () => {
    const pool = await open();
    await pool.store(lengths.map((len, e) => ep(e, len)));
    await using rb = new ReplayBuffer({ pool, batchSize: 8, maxSize: 1000, seed: 9 });
    await rb.load({ seqLen: { min: 2 } });
    expect(rb.stats.episodes).toBe(5);
    const eps = rb.sampleEpisodes(6);
    expect(eps.T).toBe(Math.max(...eps.lengths));
    for (let i = 0; i < 6; i++) {
      const len = eps.lengths[i];
      const e = eps.state[i * eps.T * 2];
      expect(lengths[e]).toBe(len);
      for (let t = 0; t < eps.T; t++) {
        const real = t < len;
        expect(eps.mask[i * eps.T + t]).toBe(real ? 1 : 0);
        expect([eps.state[(i * eps.T + t) * 2], eps.state[(i * eps.T + t) * 2 + 1]]).toEqual(real ? [e, t] : [0, 0]);
        expect(eps.action[i * eps.T + t]).toBe(real ? t : 0);
      }
    }
  });

  it('errors: empty, wrong schema, closed', async () => {
    const pool = await open();
    const rb = new ReplayBuffer({ pool, batchSize: 4, maxSize: 10 });
    expect(() => rb.sample()).toThrow(expect.objectContaining({ code: 'EXPBUF_EMPTY' }));
    expect(() => rb.sampleEpisodes(2)).toThrow(expect.objectContaining({ code: 'EXPBUF_EMPTY' }));
    expect(() => new ReplayBuffer({ pool, batchSize: 0, maxSize: 10 })).toThrow(
      expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('batchSize') }),
    );
    await rb.close();
    expect(() => rb.sample()).toThrow(expect.objectContaining({ code: 'EXPBUF_CLOSED' }));
    await expect(pool.count()).rejects.toMatchObject({ code: 'EXPBUF_CLOSED' });
    const other = await openPool(join(root, `other${n++}`), { schema: { obs: 'float32', action: 'int32', reward: 'float32' } });
    expect(() => new ReplayBuffer({ pool: other as never, batchSize: 4, maxSize: 10 })).toThrow(
      expect.objectContaining({ code: 'EXPBUF_SCHEMA_MISMATCH', message: expect.stringContaining("'state'") }),
    );
    await other.close();
  });
});

describe('ReplayBuffer lifetime', () => {
  it('a forgotten ReplayBuffer is closed by the FinalizationRegistry (the embedded pool lock goes)', async () => {
    const dir = join(root, 'forgotten');
    await (async () => {
      const pool = await openPool(dir, { schema });
      new ReplayBuffer({ pool, batchSize: 4, maxSize: 10 });
    })();
    expect(existsSync(join(dir, 'lock'))).toBe(true);
    for (let i = 0; i < 20 && existsSync(join(dir, 'lock')); i++) {
      globalThis.gc?.();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });
});
