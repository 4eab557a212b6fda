/**
 * Our CartPole against Gymnasium's CartPole-v1 (gymnasium.make('CartPole-v1'), the
 * version pinned in scripts/python-env.mjs): __test__/python/cartpole_trace.py records
 * episodes (initial float64 state, actions, every float64 state, float32 observation,
 * reward, terminated and truncated flag), and we replay the same actions from the same
 * initial states.
 *
 * The venv with gymnasium is built on first use (a few seconds to a few minutes,
 * depending on pip's cache) and reused afterwards.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { CartPole } from '../examples/envs/cartpole.js';
import { ensurePython, PINNED_PACKAGES } from '../scripts/python-env.mjs';

interface Episode {
  seed: number;
  kind: 'balance' | 'random' | 'noisy' | 'both' | 'past-end';
  initial_state: number[];
  initial_observation: number[];
  actions: number[];
  /** np.sin and np.cos of theta before each step, as CartPoleEnv.step computes them. */
  sincos: [number, number][];
  states: number[][];
  observations: number[][];
  rewards: number[];
  terminated: boolean[];
  truncated: boolean[];
}

interface Trace {
  versions: { python: string; gymnasium: string; numpy: string };
  max_episode_steps: number;
  constants: Record<string, number | string>;
  episodes: Episode[];
}

const SCRIPT = fileURLToPath(new URL('./python/cartpole_trace.py', import.meta.url));
const STATE_TOLERANCE = 1e-9;

let trace: Trace;

beforeAll(async () => {
  const python = await ensurePython();
  const { stdout } = await promisify(execFile)(python, [SCRIPT], { maxBuffer: 256 * 1024 * 1024 });
  trace = JSON.parse(stdout) as Trace;
}, 600_000);

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return a.length === b.length ? m : Infinity;
};

describe('CartPole is Gymnasium CartPole-v1', () => {
  it('is compared with the pinned Gymnasium and numpy', () => {
    expect(PINNED_PACKAGES).toContain(`gymnasium==${trace.versions.gymnasium}`);
    expect(PINNED_PACKAGES).toContain(`numpy==${trace.versions.numpy}`);
    expect(trace.max_episode_steps).toBe(500);
    expect(trace.episodes.filter((e) => e.seed < 20).map((e) => e.seed)).toEqual([...Array(20).keys()]);
  });

  it("has CartPoleEnv's constants", () => {
    const env = new CartPole();
    const c = trace.constants;
    expect({
      gravity: env.gravity,
      masscart: env.masscart,
      masspole: env.masspole,
      total_mass: env.totalMass,
      length: env.length,
      polemass_length: env.polemassLength,
      force_mag: env.forceMag,
      tau: env.tau,
      kinematics_integrator: env.kinematicsIntegrator,
      theta_threshold_radians: env.thetaThresholdRadians,
      x_threshold: env.xThreshold,
    }).toEqual(c);
    expect(env.maxSteps).toBe(trace.max_episode_steps);
  });

  it('starts from a given float64 state and observes it as float32', () => {
    for (const ep of trace.episodes) {
      const env = new CartPole(ep.seed);
      const obs = env.reset({ state: ep.initial_state });
      expect(obs).toBeInstanceOf(Float32Array);
      expect(Array.from(obs)).toEqual(ep.initial_observation);
      expect(Array.from(env.state)).toEqual(ep.initial_state);
    }
  });

  it('replays every episode: states to 1e-9, float32 observations, rewards, terminated and truncated on the same steps', () => {
    const failures: string[] = [];
    let steps = 0;
    let exactSteps = 0;
    for (const ep of trace.episodes) {
      const env = new CartPole(ep.seed);
      env.reset({ state: ep.initial_state });
      for (let t = 0; t < ep.actions.length; t++) {
        const r = env.step(ep.actions[t]);
        const at = `seed ${ep.seed} (${ep.kind}) step ${t + 1}`;
        const err = maxAbsDiff(env.state, ep.states[t]);
        steps++;
        if (err === 0) exactSteps++;
        if (!(err <= STATE_TOLERANCE)) failures.push(`${at}: state ${Array.from(env.state)} vs ${ep.states[t]} (${err})`);
        if (Array.from(r.observation).join() !== ep.observations[t].join())
          failures.push(`${at}: observation ${Array.from(r.observation)} vs ${ep.observations[t]}`);
        if (r.reward !== ep.rewards[t]) failures.push(`${at}: reward ${r.reward} vs ${ep.rewards[t]}`);
        if (r.done !== ep.terminated[t]) failures.push(`${at}: terminated ${r.done} vs ${ep.terminated[t]}`);
        if (r.truncated !== ep.truncated[t]) failures.push(`${at}: truncated ${r.truncated} vs ${ep.truncated[t]}`);
        if (failures.length >= 20) break;
      }
    }
    expect(failures.slice(0, 20)).toEqual([]);
    // Nearly every state is bit-identical (the rest: see the next test).
    expect(exactSteps / steps).toBeGreaterThan(0.95);
  });

  it('computes each step in the same floating-point order: bit-identical wherever Math.sin/cos equal numpy', () => {
    // Only np.sin/np.cos (glibc on Linux) and Math.sin/cos (V8's fdlibm) may differ,
    // by an ulp; all other operations are IEEE-754 and must give the same bits.
    let libmDiffers = 0;
    const unexplained: string[] = [];
    for (const ep of trace.episodes) {
      for (let t = 0; t < ep.actions.length; t++) {
        const before = t === 0 ? ep.initial_state : ep.states[t - 1];
        const env = new CartPole();
        env.reset({ state: before });
        env.step(ep.actions[t]);
        const sameLibm = Math.sin(before[2]) === ep.sincos[t][0] && Math.cos(before[2]) === ep.sincos[t][1];
        const err = maxAbsDiff(env.state, ep.states[t]);
        if (!sameLibm) libmDiffers++;
        if (sameLibm ? err !== 0 : !(err <= 1e-12)) unexplained.push(`seed ${ep.seed} step ${t + 1}: ${err}`);
      }
    }
    expect(unexplained).toEqual([]);
    expect(libmDiffers).toBeLessThan(100); // ~1e-3 of these steps; the test says if that changes
  });

  it('covers both kinds of episode end, both at once on step 500, and steps past the end', () => {
    const ends = trace.episodes.map((ep) => {
      const last = ep.actions.length - 1;
      const end = ep.terminated.findIndex((v, i) => v || ep.truncated[i]);
      return { ep, end: end + 1, terminated: ep.terminated[end], truncated: ep.truncated[end], last };
    });
    // Truncated on step 500 (TimeLimit), not terminated: most of the balancing episodes.
    expect(ends.filter((e) => e.end === 500 && e.truncated && !e.terminated).length).toBeGreaterThanOrEqual(5);
    // Terminated before 500.
    expect(ends.filter((e) => e.end < 500 && e.terminated && !e.truncated).length).toBeGreaterThanOrEqual(5);
    // Gymnasium's TimeLimit truncates on step 500 even when that step also terminates.
    const both = ends.find((e) => e.ep.kind === 'both');
    expect(both).toMatchObject({ end: 500, terminated: true, truncated: true });
    // Past termination Gymnasium gives reward 0.0; past step 500 truncated stays true.
    const pastTerm = trace.episodes.find((ep) => ep.kind === 'past-end' && ep.terminated.some((v) => v));
    const pastTrunc = trace.episodes.find((ep) => ep.kind === 'past-end' && ep.truncated.some((v) => v));
    expect(pastTerm?.rewards.slice(-5)).toEqual([0, 0, 0, 0, 0]);
    expect(pastTrunc?.truncated.slice(499)).toEqual([true, true, true, true]);
  });
});

describe('CartPole on its own', () => {
  it('draws initial states uniformly in [-0.05, 0.05] from its seeded RNG', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const env = new CartPole(seed);
      for (let episode = 0; episode < 3; episode++) {
        const obs = env.reset();
        const s = env.state;
        expect(s).toBeInstanceOf(Float64Array);
        for (const v of s) {
          expect(v).toBeGreaterThanOrEqual(-0.05);
          expect(v).toBeLessThanOrEqual(0.05);
        }
        expect(Array.from(obs)).toEqual(Array.from(Float32Array.from(s)));
        seen.add(Array.from(s).join());
      }
      // The same seed gives the same episodes.
      const a = new CartPole(seed);
      const b = new CartPole(seed);
      a.reset();
      b.reset();
      expect(Array.from(a.state)).toEqual(Array.from(b.state));
    }
    expect(seen.size).toBe(60);
  });

  it('keeps the public surface: sizes, truncation at maxSteps, state copies, argument checks', () => {
    expect(CartPole.observationSize).toBe(4);
    expect(CartPole.actions).toBe(2);
    const env = new CartPole(7, 10);
    expect(() => env.step(0)).toThrow(/reset/);
    env.reset({ state: [0, 0, 0, 0] });
    expect(() => env.step(2)).toThrow(RangeError);
    for (let t = 1; t <= 10; t++) {
      const r = env.step(t % 2);
      expect(r.truncated).toBe(t === 10);
      expect(r.done).toBe(false);
      expect(r.reward).toBe(1);
    }
    expect(env.elapsedSteps).toBe(10);
    env.state[0] = 99; // a copy: the env is unchanged
    expect(env.state[0]).not.toBe(99);
    expect(() => env.reset({ state: [1, 2, 3] })).toThrow(RangeError);
  });
});
