/**
 * The worker side of the replay tests, driven by one message per task. Compiled by
 * `tsc` into dist/ (tests load the compiled file).
 */
import { parentPort } from 'node:worker_threads';
import { DataCollector, ReplayBuffer, type CollectorHandle, type ReplayBufferHandle, type ReplayStep } from '../../ts/index.js';
import { actionOf, rewardOf, type EnvSchema } from '../support/replay-env.js';

export type Task =
  /** Collect `episodes` episodes on each of 4 envs (env = 4w + e), interleaving the envs at random. */
  | { task: 'collect'; handle: CollectorHandle<ReplayStep<EnvSchema>>; w: number; episodes: number; seed: number }
  /** Attach to a replay buffer, wait `delayMs`, add `steps` one-step episodes (env 1000), close. */
  | { task: 'insertLater'; handle: ReplayBufferHandle<ReplayBuffer<EnvSchema>>; delayMs: number; steps: number }
  /** Attach to a replay buffer, wait `delayMs`, sample `n` steps, close. */
  | { task: 'sampleLater'; handle: ReplayBufferHandle<ReplayBuffer<EnvSchema>>; delayMs: number; n: number }
  /** Attach and sample `n` transitions; returns their ids' sum and the size seen. */
  | { task: 'sample'; handle: ReplayBufferHandle<ReplayBuffer<EnvSchema>>; n: number }
  /** Attach, post `{ started: true }`, then wait in `sampleAsync(n)` (the test terminates the worker meanwhile). */
  | { task: 'waitSample'; handle: ReplayBufferHandle<ReplayBuffer<EnvSchema>>; n: number };

if (parentPort === null) throw new Error('replay-worker.ts runs as a worker');
const port = parentPort;

port.on('message', (t: Task) => {
  void run(t).then(
    (result) => port.postMessage({ ok: true, ...result }),
    (e: unknown) => port.postMessage({ ok: false, error: String((e as Error).stack ?? e) }),
  );
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(t: Task): Promise<Record<string, number>> {
  switch (t.task) {
    case 'collect': {
      const c = DataCollector.fromHandle(t.handle);
      let seed = t.seed;
      const rand = (k: number) => {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        return seed % k;
      };
      // Per env: its episode number, step, length and end.
      const envs = Array.from({ length: 4 }, () => ({ ep: 0, t: 0, len: 1 + rand(30), term: rand(2) }));
      let steps = 0;
      while (envs.some((v) => v.ep < t.episodes)) {
        const e = rand(4);
        const v = envs[e];
        if (v.ep >= t.episodes) continue;
        const last = v.t === v.len - 1;
        c.collect({
          state: [t.w, e, v.ep, v.t, v.len, v.term],
          action: actionOf(e, v.t),
          reward: rewardOf(t.w, e, v.t),
          nextState: [t.w, e, v.ep, v.t + 1, v.len, v.term],
          terminated: last && v.term === 1,
          truncated: last && v.term === 0,
          env: 4 * t.w + e,
        });
        steps++;
        if (last) Object.assign(v, { ep: v.ep + 1, t: 0, len: 1 + rand(30), term: rand(2) });
        else v.t++;
        if (steps % 512 === 0) await new Promise((r) => setImmediate(r));
      }
      c.close();
      return { steps };
    }
    case 'insertLater': {
      const rb = ReplayBuffer.fromHandle(t.handle);
      await sleep(t.delayMs);
      for (let i = 0; i < t.steps; i++) {
        rb.add({ state: [9, 9, i, 0, 1, 1], action: 0, reward: 0, nextState: [9, 9, i, 1, 1, 1], terminated: true, env: 1000 });
      }
      await rb.close();
      return { steps: t.steps };
    }
    case 'sampleLater': {
      const rb = ReplayBuffer.fromHandle(t.handle);
      await sleep(t.delayMs);
      rb.sample(t.n);
      await rb.close();
      return { n: t.n };
    }
    case 'waitSample': {
      const rb = ReplayBuffer.fromHandle(t.handle);
      const waiting = rb.sampleAsync(t.n);
      port.postMessage({ started: true });
      await waiting;
      return { n: t.n };
    }
    case 'sample': {
      const rb = ReplayBuffer.fromHandle(t.handle);
      const b = rb.sample(t.n);
      const size = rb.size;
      await rb.close();
      return { idSum: b.ids.reduce((a, x) => a + x, 0), size };
    }
  }
}
