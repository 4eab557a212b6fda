/**
 * The main job's hyperparameters, all in one place (examples/online-learning.ts and
 * bench/dqn-backends.ts read them from here).
 *
 * Chosen by running `npm start -- --seed S` for seeds 1, 2, 3 (50,000 env steps each)
 * on the 2-core development machine, shared with other engineers' jobs, and reading
 * the final greedy evaluation (mean return of 10 episodes, ε = 0; 475 counts as
 * solved). Each row changes the row it names; "base" is the first try.
 *
 * | configuration                                          | seed 1 | seed 2 | seed 3 |
 * |--------------------------------------------------------|-------:|-------:|-------:|
 * | base: lr 1e-3, 3-step, target copy every 500, train every 4 | 417 | 228 | 341 |
 * | base, train every 2                                    |    328 |    454 |    500 |
 * | base, learning rate annealed to 0                      |    384 |      — |      — |
 * | base, 5-step returns                                   |    453 |    416 |      — |
 * | base, γ 0.995                                          |    324 |      — |      — |
 * | base, 128-128 hidden units (2–3× the step's time)      |    269 |      — |      — |
 * | base, lr 2.3e-3 (rl-zoo's), target copy every 100      |    415 |    500 |    500 |
 * | lr 2.3e-3, target every 50                             |    500 |    446 |    323 |
 * | lr 2.3e-3, target every 100, 5-step                    |    500 |    462 |    486 |
 * | lr 2.3e-3, target every 50, 5-step                     |    462 |    485 |    484 |
 * |   … and lr annealed to 0                               |    491 |    346 |    500 |
 * |   … and batch 128 (repeated: second run)               | 500 (473) | 489 (465) | 500 |
 * |   … and batch 256                                      |    484 |    500 |      — |
 * | lr 2.3e-3, target every 100, 5-step, train every 2 (second run: +) | 500 (500) | 500 (500) | 500 (500) |
 * |   … third and fourth runs (the first final check)      | 500, 477 |  500 |    355 |
 * |   … and target every 250                               | 500 (312) | 500 (500) | 500 (500) |
 * |   … and lr annealed to 0                               |    486 |    479 |    500 |
 * |   … and lr 1e-3                                        |    497 |    308 |      — |
 * | **… target every 250 and lr annealed to 0** (chosen)   | **500** | **500** | **500** |
 *
 * Runs of one seed differ (the agent acts on whichever parameters last arrived, so
 * thread timing changes the data), hence the repeats. Two failures looked alike: first
 * the greedy policy kept the pole up but let the cart drift off the track after 200–450
 * steps, which longer returns (5 steps), rl-zoo's higher learning rate and twice the
 * gradient steps per env step fixed (a wider network did not, and costs 2–3× per
 * step); then a solved policy sometimes fell apart again late in the run, which a
 * slower target network and a learning rate annealed to 0 by the budget's end fixed. A "—" was
 * not run to the end: the row was already worse than another. The default run's own
 * figures (three seeds, times) are in the README.
 */
export const HYPERPARAMETERS = {
  /** Q-network layer sizes: CartPole's 4 observations in, one Q-value per action out. */
  layers: [4, 64, 64, 2],
  /** rl-baselines3-zoo's for DQN on CartPole-v1. */
  learningRate: 2.3e-3,
  /** Env steps over which the learning rate and β anneal (the default budget; a resumed run continues the schedule). */
  scheduleSteps: 50_000,
  /** The learning rate falls linearly to this fraction of itself over scheduleSteps. */
  finalLearningRateFraction: 0,
  batchSize: 64,
  gamma: 0.99,
  nStep: 5,
  /** Replay capacity in env steps (≥ the default budget: nothing is forgotten). */
  replaySize: 50_000,
  priority: { alpha: 0.6, beta: 0.4, epsilon: 1e-3 },
  /** β rises linearly to this over scheduleSteps. */
  finalBeta: 1,
  /** Env steps before the first gradient step (the rate limiter's minSize). */
  warmup: 1000,
  /** Env steps per gradient step once warm: samplesPerInsert = batchSize / trainEvery. */
  trainEvery: 2,
  /** Rate limiter slack, in gradient steps' worth of samples. */
  toleranceSteps: 16,
  /** Gradient steps between target-network copies. */
  targetSync: 250,
  /** ε-greedy exploration: from 1 to finalEpsilon over explorationSteps env steps. */
  explorationSteps: 10_000,
  finalEpsilon: 0.02,
  /** Gradient steps between weight posts to the agent thread. */
  weightsEvery: 20,
  /** Env steps between greedy evaluations (10 episodes, ε = 0). */
  evalEvery: 5000,
  evalEpisodes: 10,
} as const;
