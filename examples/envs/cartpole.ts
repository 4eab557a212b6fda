/** One CartPole transition as the examples collect it. */
export const transitionSchema = {
  obs: { dtype: 'float32', shape: [4] },
  action: 'int32',
  reward: 'float32',
  nextObs: { dtype: 'float32', shape: [4] },
  done: 'uint8',
} as const;

/**
 * A CartPole step's own fields in a `ReplayBuffer` (which adds `nextState`,
 * `terminated`, `truncated` and `env`), as the main job collects it.
 */
export const replaySchema = {
  state: { dtype: 'float32', shape: [4] },
  action: 'int32',
  reward: 'float32',
} as const;

/** Options of {@link CartPole.reset}. */
export interface CartPoleResetOptions {
  /**
   * Start from exactly this float64 state `[x, xDot, theta, thetaDot]` instead of a
   * random one (e.g. a state read from Gymnasium's `env.unwrapped.state`). The RNG is
   * not advanced.
   */
  state?: ArrayLike<number>;
  /** Bounds of the random initial state, as Gymnasium's `options={"low", "high"}`; default ±0.05. */
  low?: number;
  high?: number;
}

/** What {@link CartPole.step} returns: Gymnasium's `(obs, reward, terminated, truncated)`. */
export interface CartPoleStep {
  /** The new state as float32, as Gymnasium's `np.array(self.state, dtype=np.float32)`. */
  observation: Float32Array;
  reward: number;
  /** Gymnasium's `terminated`: the pole fell or the cart left the track. */
  done: boolean;
  /** Gymnasium's `truncated`: set by CartPole-v1's TimeLimit on step `maxSteps` and after. */
  truncated: boolean;
}

/**
 * CartPole exactly as `gymnasium.make('CartPole-v1')` (Gymnasium 1.4.0,
 * `gymnasium/envs/classic_control/cartpole.py`, class `CartPoleEnv`, wrapped in
 * `TimeLimit(max_episode_steps=500)` from `gymnasium/wrappers/common.py`): push a cart
 * left or right to keep a pole up (Barto, Sutton & Anderson 1983).
 *
 * What is reproduced, and why it matters for comparing with Gymnasium:
 * - The constants, read from `CartPoleEnv.__init__`: gravity 9.8, masscart 1.0,
 *   masspole 0.1, `total_mass = masspole + masscart`, length 0.5 (half the pole),
 *   `polemass_length = masspole * length`, force_mag 10.0, tau 0.02, Euler integration,
 *   `theta_threshold_radians = 12 * 2 * math.pi / 360`, `x_threshold = 2.4`.
 * - The float64 arithmetic of `CartPoleEnv.step` in the same order (IEEE-754 `+ - * /`
 *   give the same bits in JS as numpy float64 when the operands and their order are the
 *   same): e.g. `polemass_length * np.square(theta_dot) * sintheta` squares first, and
 *   `masspole * np.square(costheta) / total_mass` likewise.
 * - The state is kept as float64, as Gymnasium's `self.state`; observations are its
 *   float32 rounding (`np.array(self.state, dtype=np.float32)`; JS's Float32Array
 *   rounds to nearest-even like numpy's cast).
 * - Termination on the new state: `x < -2.4 or x > 2.4 or theta < -thr or theta > thr`.
 * - Reward 1.0 on every step including the terminating one; a step after termination
 *   (undefined behaviour in Gymnasium, which warns) gives 0.0, as `steps_beyond_terminated`.
 * - Truncation as `TimeLimit.step`: `truncated = True` once the episode's step count
 *   reaches 500, *whether or not the same step terminated*: on step 500 Gymnasium can
 *   return `terminated=True, truncated=True`, and so do we.
 * - The initial state is uniform in [low, high) = [-0.05, 0.05) per component, computed
 *   as numpy's `low + (high - low) * u`; `u` comes from this env's own seeded RNG
 *   (numpy's PCG64 stream is not reproduced: pass `reset({ state })` to start from
 *   Gymnasium's initial state).
 *
 * One thing JS cannot reproduce bit for bit: numpy's `np.sin`/`np.cos` call the C
 * library's (glibc's on Linux) while V8's `Math.sin`/`Math.cos` are fdlibm's; both are
 * accurate to < 1 ulp but differ in the last bit for about 1 % of arguments. One step
 * from the same state therefore agrees with Gymnasium to ~1e-16, but the upright pole is
 * unstable (perturbations grow about e^(4 t), t in seconds), so over hundreds of steps
 * with a fixed action sequence such last-bit differences grow to visible size — the same
 * happens between numpy on two platforms with different C libraries.
 */
export class CartPole {
  static readonly observationSize = 4;
  static readonly actions = 2;
  readonly gravity = 9.8;
  readonly masscart = 1.0;
  readonly masspole = 0.1;
  readonly totalMass = this.masspole + this.masscart;
  /** Half the pole's length. */
  readonly length = 0.5;
  readonly polemassLength = this.masspole * this.length;
  readonly forceMag = 10.0;
  /** Seconds between state updates. */
  readonly tau = 0.02;
  readonly kinematicsIntegrator = 'euler';
  readonly thetaThresholdRadians = (12 * 2 * Math.PI) / 360;
  readonly xThreshold = 2.4;
  /** CartPole-v1's `max_episode_steps`: the step on which `truncated` becomes true. */
  readonly maxSteps: number;
  private readonly s = new Float64Array(4);
  private started = false;
  private elapsed = 0;
  /** Gymnasium's `steps_beyond_terminated`: undefined while the episode runs. */
  private stepsBeyondTerminated: number | undefined;
  private rngState: number;

  constructor(seed = 1, maxSteps = 500) {
    // mulberry32's state; every 32-bit seed (0 included) gives its own stream.
    this.rngState = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
    this.maxSteps = maxSteps;
  }

  /** A copy of the float64 state `[x, xDot, theta, thetaDot]` (Gymnasium's `env.unwrapped.state`). */
  get state(): Float64Array {
    return this.s.slice();
  }

  /** Steps taken since the last reset (TimeLimit's `_elapsed_steps`). */
  get elapsedSteps(): number {
    return this.elapsed;
  }

  private next32(): number {
    // mulberry32 (Tommy Ettinger): the environment's own small deterministic RNG.
    this.rngState = (this.rngState + 0x6d2b79f5) >>> 0;
    let t = this.rngState;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits, like numpy's `random()`. */
  private uniform(): number {
    return ((this.next32() >>> 5) * 67108864 + (this.next32() >>> 6)) / 9007199254740992;
  }

  /** Starts an episode; returns the first observation (the state as float32). */
  reset(options: CartPoleResetOptions = {}): Float32Array {
    if (options.state !== undefined) {
      if (options.state.length !== 4) throw new RangeError(`state must have 4 components, got ${options.state.length}`);
      for (let i = 0; i < 4; i++) this.s[i] = Number(options.state[i]);
    } else {
      const low = options.low ?? -0.05;
      const high = options.high ?? 0.05;
      if (!(low <= high)) throw new RangeError(`Lower bound (${low}) must be lower than higher bound (${high}).`);
      for (let i = 0; i < 4; i++) this.s[i] = low + (high - low) * this.uniform();
    }
    this.elapsed = 0;
    this.stepsBeyondTerminated = undefined;
    this.started = true;
    return Float32Array.from(this.s);
  }

  /** Applies action 0 (push left) or 1 (push right): `CartPoleEnv.step` under `TimeLimit`. */
  step(action: number): CartPoleStep {
    if (action !== 0 && action !== 1) throw new RangeError(`${action} invalid: CartPole's actions are 0 and 1`);
    if (!this.started) throw new Error('Call reset before using step method.');
    const s = this.s;
    let x = s[0];
    let xDot = s[1];
    let theta = s[2];
    let thetaDot = s[3];
    const force = action === 1 ? this.forceMag : -this.forceMag;
    const costheta = Math.cos(theta);
    const sintheta = Math.sin(theta);
    // The same expressions, in the same order, as CartPoleEnv.step.
    const temp = (force + this.polemassLength * (thetaDot * thetaDot) * sintheta) / this.totalMass;
    const thetaacc = (this.gravity * sintheta - costheta * temp) / (this.length * (4.0 / 3.0 - (this.masspole * (costheta * costheta)) / this.totalMass));
    const xacc = temp - (this.polemassLength * thetaacc * costheta) / this.totalMass;
    // kinematics_integrator == "euler"
    x = x + this.tau * xDot;
    xDot = xDot + this.tau * xacc;
    theta = theta + this.tau * thetaDot;
    thetaDot = thetaDot + this.tau * thetaacc;
    s[0] = x;
    s[1] = xDot;
    s[2] = theta;
    s[3] = thetaDot;

    const done = x < -this.xThreshold || x > this.xThreshold || theta < -this.thetaThresholdRadians || theta > this.thetaThresholdRadians;
    let reward: number;
    if (!done) reward = 1.0;
    else if (this.stepsBeyondTerminated === undefined) {
      this.stepsBeyondTerminated = 0; // the pole just fell
      reward = 1.0;
    } else {
      this.stepsBeyondTerminated++;
      reward = 0.0;
    }
    // TimeLimit: `self._elapsed_steps += 1; if self._elapsed_steps >= max: truncated = True`.
    this.elapsed++;
    const truncated = this.elapsed >= this.maxSteps;
    return { observation: Float32Array.from(s), reward, done, truncated };
  }
}
