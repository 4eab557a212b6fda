/**
 * `ReplayBuffer` across threads: collectors in workers feeding it through a `DataUser`,
 * inserts and samples from workers waking `sampleAsync` / `insertAllowed`, and
 * handles. The workers run the compiled `dist/__test__/workers/replay-worker.js`.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { DataUser, ReplayBuffer } from '../ts/index.js';
import { actionOf, envSchema, rewardOf } from './support/replay-env.js';
import type { Task } from './workers/replay-worker.js';

const WORKER = fileURLToPath(new URL('../dist/__test__/workers/replay-worker.js', import.meta.url));
const workers: Worker[] = [];
afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
});

/** Runs one task on a new worker; resolves with its result. */
function task(t: Task): Promise<Record<string, number>> {
  const w = new Worker(WORKER);
  workers.push(w);
  return new Promise((resolve, reject) => {
    w.once('message', (m: { ok: boolean; error?: string } & Record<string, number>) => (m.ok ? resolve(m) : reject(new Error(m.error))));
    w.once('error', reject);
    w.postMessage(t);
  });
}

describe('ReplayBuffer fed from worker threads', () => {
  it('4 collector workers × 4 envs through one DataUser: every sampled transition is a real n-step (s, a, R, s′) of its env', async () => {
    const gamma = 0.9;
    const rb = new ReplayBuffer({ schema: envSchema, maxSize: 72_000, nStep: 3, gamma, seed: 17 });
    const user = new DataUser(rb, { maxQueueSize: Infinity });
    const h = user.collector.handle();
    let collecting = true;
    const steps = Promise.all([0, 1, 2, 3].map((w) => task({ task: 'collect', handle: h, w, episodes: 150, seed: 100 + w }))).finally(
      () => (collecting = false),
    );
    let checked = 0;
    const check = () => {
      if (!rb.canSample(256)) return;
      const b = rb.sample(256);
      for (let k = 0; k < 256; k++) {
        const [w, e, ep, t, len, term] = b.state.subarray(6 * k, 6 * k + 6);
        expect(b.action[k]).toBe(actionOf(e, t));
        const K = Math.min(3, len - t);
        let R = 0;
        for (let j = 0; j < K; j++) R += gamma ** j * Math.fround(rewardOf(w, e, t + j));
        expect(b.reward[k]).toBeCloseTo(R, 3);
        expect([...b.nextState.subarray(6 * k, 6 * k + 6)]).toEqual([w, e, ep, t + K, len, term]);
        expect(b.done[k]).toBe(t + K === len && term === 1 ? 1 : 0);
        expect(b.discount[k]).toBeCloseTo(gamma ** K, 6);
        checked++;
      }
    };
    while (collecting) {
      user.update();
      check();
      await new Promise((r) => setTimeout(r, 1));
    }
    const counts = await steps;
    user.update();
    check();
    const total = counts.reduce((a, c) => a + c.steps, 0);
    expect(rb.stats.inserted).toBe(total);
    expect(rb.size).toBe(total);
    // 72,000 ≥ 16 envs × 150 episodes × 30 steps: nothing is evicted, however the workers interleave.
    // Every step reached the buffer once, in its env's order: the held steps of each env
    // are consecutive (t + 1 follows t, a new episode starts at 0).
    const d = rb.getData();
    const lastOf = new Map<number, number[]>();
    for (let i = 0; i < rb.size; i++) {
      const [w, e, ep, t] = d.state.subarray(6 * i, 6 * i + 6);
      expect(d.env[i]).toBe(4 * w + e);
      const prev = lastOf.get(d.env[i]);
      if (prev !== undefined) {
        const [pep, pt, plen] = prev;
        // The next step of the episode, or the first of the next one after its last step.
        expect(t === 0 ? [pt, ep] : [pep, t]).toEqual(t === 0 ? [plen - 1, pep + 1] : [ep, pt + 1]);
      }
      lastOf.set(d.env[i], [ep, t, d.state[6 * i + 4]]);
    }
    expect(lastOf.size).toBe(16);
    expect(checked).toBeGreaterThan(256);
    user.close();
    await rb.close();
  });

  it('sampleAsync resolves after inserts from a worker; insertAllowed after its samples; a handle shares the rows', async () => {
    const rb = new ReplayBuffer({ schema: envSchema, maxSize: 1000, batchSize: 8, seed: 2, rateLimit: { minSize: 20, samplesPerInsert: 1, tolerance: 8 } });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    const inserting = task({ task: 'insertLater', handle: rb.handle(), delayMs: 100, steps: 30 });
    const b = await rb.sampleAsync(8, { timeoutMs: 20_000 });
    expect(performance.now() - t0).toBeGreaterThan(90);
    expect(b.ids.length).toBe(8);
    expect(await inserting).toMatchObject({ steps: 30 });
    // I = 30, S = 8: 1 · (31 − 20) − 8 = 3 ≤ 8: inserts allowed; sample up to the tolerance.
    rb.sample(10);
    expect(rb.canInsert()).toBe(true);
    for (let i = 0; i < 10; i++) rb.add({ state: [0, 0, i, 0, 1, 1], action: 0, reward: 0, nextState: [0, 0, i, 1, 1, 1], terminated: true });
    // I = 40, S = 18: 21 − 18 = 3; S can rise to 28 before: after 10 more inserts it is 13 > 8.
    for (let i = 0; i < 10; i++) rb.add({ state: [0, 0, i, 0, 1, 1], action: 0, reward: 0, nextState: [0, 0, i, 1, 1, 1], terminated: true });
    expect(rb.canInsert()).toBe(false);
    const allowed = rb.insertAllowed({ timeoutMs: 20_000 });
    const sampling = task({ task: 'sampleLater', handle: rb.handle(), delayMs: 50, n: 8 });
    await allowed;
    await sampling;
    expect(rb.canInsert()).toBe(true);
    const seen = await task({ task: 'sample', handle: rb.handle(), n: 4 });
    expect(seen.size).toBe(rb.size);
    expect(rb.stats.sampled).toBe(8 + 10 + 8 + 4);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(10);
    await rb.close();
    expect(() => ReplayBuffer.fromHandle({ kind: 'expbuf.buffer', id: 1 } as never)).toThrow(expect.objectContaining({ code: 'EXPBUF_INVALID_ARGUMENT' }));
  });

  it('workers that exit while waiting leave the buffer and the other waiters working', async () => {
    const rb = new ReplayBuffer({ schema: envSchema, maxSize: 100, seed: 3 });
    for (let round = 0; round < 8; round++) {
      const w = new Worker(WORKER);
      const started = new Promise((r) => w.once('message', r));
      w.postMessage({ task: 'waitSample', handle: rb.handle(), n: 1 } satisfies Task);
      await started;
      // Its wait is registered in the shared buffer; the worker's environment goes away.
      await w.terminate();
    }
    const waiting = rb.sampleAsync(1, { timeoutMs: 20_000 });
    rb.add({ state: [0, 0, 0, 0, 1, 1], action: 0, reward: 0, nextState: [0, 0, 0, 1, 1, 1], terminated: true });
    expect((await waiting).ids.length).toBe(1);
    await rb.close();
  });
});
