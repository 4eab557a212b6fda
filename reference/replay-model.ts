/**
 * A plain TS model of the replay formulas (the README's "Replay" section), written
 * from the text, not from the core: the test oracle of `ReplayBuffer`. Every step ever
 * added is kept by id; the held ones are the newest `maxSize`. Uniform draws follow
 * the core's procedure with the same RNG (`rng.ts`), so a seed predicts the ids.
 */
import { Rng } from './rng.js';

export interface ModelStep {
  state: number[];
  action: number;
  reward: number;
  nextState: number[];
  terminated: boolean;
  truncated: boolean;
  env: number;
}

export interface ModelTransition {
  state: number[];
  action: number;
  /** Σ_{k<K} γ^k r_{t+k}, rounded to float32. */
  reward: number;
  nextState: number[];
  done: 0 | 1;
  /** γ^K, rounded to float32. */
  discount: number;
}

export class ReplayModel {
  readonly steps: ModelStep[] = [];
  /** The id of the next step of the same episode, when there is one yet. */
  readonly #next = new Map<number, number>();
  /** Per env, the newest step of the episode going on. */
  readonly #last = new Map<number, number>();
  readonly #rng: Rng;

  constructor(
    readonly maxSize: number,
    readonly nStep: number,
    readonly gamma: number,
    seed: number,
  ) {
    this.#rng = new Rng(seed);
  }

  add(step: ModelStep): void {
    const id = this.steps.length;
    this.steps.push(step);
    const prev = this.#last.get(step.env);
    if (prev !== undefined) this.#next.set(prev, id);
    if (step.terminated || step.truncated) this.#last.delete(step.env);
    else this.#last.set(step.env, id);
  }

  get size(): number {
    return Math.min(this.steps.length, this.maxSize);
  }

  get oldest(): number {
    return this.steps.length - this.size;
  }

  /** A held step is sampleable once nStep steps of its episode exist from it on, or its episode ended within them. */
  active(id: number): boolean {
    let s = id;
    for (let k = 1; ; k++) {
      const st = this.steps[s];
      if (st.terminated || st.truncated || k === this.nStep) return true;
      const n = this.#next.get(s);
      if (n === undefined) return false;
      s = n;
    }
  }

  /**
   * Ids `sample(n)` draws uniformly, as the core draws them: when at least a quarter
   * of the held steps are sampleable, rounds of one held step per open position (in
   * position order), keeping the sampleable ones; otherwise the rank among the
   * sampleable ones, one position after another.
   */
  draw(n: number): number[] {
    const held = Array.from({ length: this.size }, (_, i) => this.oldest + i);
    const act = held.filter((id) => this.active(id));
    const out = new Array<number>(n);
    if (act.length * 4 >= held.length) {
      let open = Array.from({ length: n }, (_, b) => b);
      while (open.length > 0) {
        for (const b of open) out[b] = this.oldest + this.#rng.below(held.length);
        open = open.filter((b) => !this.active(out[b]));
      }
      return out;
    }
    for (let b = 0; b < n; b++) out[b] = act[this.#rng.below(act.length)];
    return out;
  }

  /** The n-step transition from step `id`. */
  transition(id: number): ModelTransition {
    let ret = 0;
    let g = 1;
    let s = id;
    let K = 0;
    let done: 0 | 1 = 0;
    for (;;) {
      const st = this.steps[s];
      ret += g * Math.fround(st.reward);
      K++;
      if (st.terminated || st.truncated) {
        done = st.terminated ? 1 : 0;
        break;
      }
      const n = this.#next.get(s);
      if (K === this.nStep || n === undefined) break;
      g *= this.gamma;
      s = n;
    }
    const t = this.steps[id];
    return { state: t.state, action: t.action, reward: Math.fround(ret), nextState: this.steps[s].nextState, done, discount: Math.fround(this.gamma ** K) };
  }

  /** Held ids of the window of `length` steps of one episode from `id` (shorter at its end or newest step). */
  window(id: number, length: number): number[] {
    const out = [id];
    let s = id;
    while (out.length < length) {
      const st = this.steps[s];
      const n = this.#next.get(s);
      if (st.terminated || st.truncated || n === undefined) break;
      out.push(n);
      s = n;
    }
    return out;
  }
}
