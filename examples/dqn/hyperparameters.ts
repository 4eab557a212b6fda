/**
 * The main job's hyperparameters, all in one place (examples/online-learning.ts and
 * bench/dqn-backends.ts read them from here).
 *
 * TODO: the tuning table.
 */
export const HYPERPARAMETERS = {
  /** Q-network layer sizes: CartPole's 4 observations in, one Q-value per action out. */
  layers: [4, 64, 64, 2],
  learningRate: 1e-3,
  /** Env steps over which the learning rate and β anneal (the default budget; a resumed run continues the schedule). */
  scheduleSteps: 50_000,
  /** The learning rate falls linearly to this fraction of itself over scheduleSteps. */
  finalLearningRateFraction: 0.1,
  batchSize: 64,
  gamma: 0.99,
  nStep: 3,
  /** Replay capacity in env steps (≥ the default budget: nothing is forgotten). */
  replaySize: 50_000,
  priority: { alpha: 0.6, beta: 0.4, epsilon: 1e-3 },
  /** β rises linearly to this over scheduleSteps. */
  finalBeta: 1,
  /** Env steps before the first gradient step (the rate limiter's minSize). */
  warmup: 1000,
  /** Env steps per gradient step once warm: samplesPerInsert = batchSize / trainEvery. */
  trainEvery: 4,
  /** Rate limiter slack, in gradient steps' worth of samples. */
  toleranceSteps: 16,
  /** Gradient steps between target-network copies. */
  targetSync: 500,
  /** ε-greedy exploration: from 1 to finalEpsilon over explorationSteps env steps. */
  explorationSteps: 10_000,
  finalEpsilon: 0.02,
  /** Gradient steps between weight posts to the agent thread. */
  weightsEvery: 20,
  /** Env steps between greedy evaluations (10 episodes, ε = 0). */
  evalEvery: 5000,
  evalEpisodes: 10,
} as const;
