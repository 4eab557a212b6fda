/** One CartPole transition as the examples collect it. */
export const transitionSchema = {
  obs: { dtype: 'float32', shape: [4] },
  action: 'int32',
  reward: 'float32',
  nextObs: { dtype: 'float32', shape: [4] },
  done: 'uint8',
} as const;

/**
 * CartPole with the classic physics (Barto, Sutton & Anderson 1983; the constants and
 * Euler integration of Gym's CartPole-v1): push a cart left or right to keep a pole up.
 */
export class CartPole {
  static readonly observationSize = 4;
  static readonly actions = 2;
  private readonly gravity = 9.8;
  private readonly massCart = 1.0;
  private readonly massPole = 0.1;
  private readonly length = 0.5; // half the pole's length
  private readonly forceMag = 10.0;
  private readonly tau = 0.02;
  private readonly thetaLimit = (12 * 2 * Math.PI) / 360;
  private readonly xLimit = 2.4;
  readonly maxSteps: number;
  private state = new Float64Array(4);
  private steps = 0;
  private rngState: number;

  constructor(seed = 1, maxSteps = 500) {
    this.rngState = seed >>> 0 || 1;
    this.maxSteps = maxSteps;
  }

  private uniform(): number {
    // xorshift32: the environment's own small deterministic RNG.
    let x = this.rngState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rngState = x >>> 0;
    return this.rngState / 4294967296;
  }

  /** Starts an episode; returns the first observation. */
  reset(): Float32Array {
    for (let i = 0; i < 4; i++) this.state[i] = this.uniform() * 0.1 - 0.05;
    this.steps = 0;
    return Float32Array.from(this.state);
  }

  /** Applies action 0 (push left) or 1 (push right). */
  step(action: number): { observation: Float32Array; reward: number; done: boolean; truncated: boolean } {
    const [x, xDot, theta, thetaDot] = this.state;
    const force = action === 1 ? this.forceMag : -this.forceMag;
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    const totalMass = this.massCart + this.massPole;
    const poleMassLength = this.massPole * this.length;
    const temp = (force + poleMassLength * thetaDot * thetaDot * sin) / totalMass;
    const thetaAcc = (this.gravity * sin - cos * temp) / (this.length * (4 / 3 - (this.massPole * cos * cos) / totalMass));
    const xAcc = temp - (poleMassLength * thetaAcc * cos) / totalMass;
    this.state[0] = x + this.tau * xDot;
    this.state[1] = xDot + this.tau * xAcc;
    this.state[2] = theta + this.tau * thetaDot;
    this.state[3] = thetaDot + this.tau * thetaAcc;
    this.steps++;
    const done = Math.abs(this.state[0]) > this.xLimit || Math.abs(this.state[2]) > this.thetaLimit;
    const truncated = !done && this.steps >= this.maxSteps;
    return { observation: Float32Array.from(this.state), reward: 1, done, truncated };
  }
}
