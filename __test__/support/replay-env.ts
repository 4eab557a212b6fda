/** The envs of the cross-thread replay tests: what workers collect and what the test checks. */

/** The schema of the cross-thread replay tests: state = [w, env, episode, t, length, terminated]. */
export const envSchema = { state: { dtype: 'float32', shape: [6] }, action: 'int32', reward: 'float32' } as const;
export type EnvSchema = typeof envSchema;

/** The action and reward of step t of env e of worker w: what a sampled transition is checked against. */
export const actionOf = (e: number, t: number): number => (t * 7 + e) % 5;
export const rewardOf = (w: number, e: number, t: number): number => w * 100 + e * 10 + t / 4;
