"""Traces of Gymnasium's CartPole-v1, for __test__/cartpole.test.ts to replay.

Prints one JSON document on stdout:
  {"versions": {...}, "constants": {...}, "max_episode_steps": 500, "episodes": [...]}
where each episode is
  {"seed", "kind", "initial_state" (float64 env.unwrapped.state after reset),
   "initial_observation", "actions", "sincos" (np.sin and np.cos of theta before each
   step, as CartPoleEnv.step computes them), "states" (float64 env.unwrapped.state after
   each step),
   "observations", "rewards", "terminated", "truncated"}.

Floats go through json's repr, which round-trips float64 exactly; float32
observations are written as the float64 of their value, so they are exact too.

Episodes (all from gymnasium.make('CartPole-v1'), reset with seed=...):
  seeds 0-9    "balance": action = 1 if theta + 0.5 * theta_dot > 0 else 0, computed
               from the observation; these last the 500 steps and are truncated.
  seeds 10-14  "random": uniformly random actions; the pole falls within tens of steps.
  seeds 15-19  "noisy": the balancing action, replaced by a random one with
               probability 0.3; various lengths, both ways of terminating.
  "both"       balance, then always push right from a switching step chosen so that
               the pole falls on exactly step 500: terminated and truncated together.
  "past-end"   two episodes that go on stepping after the end, as Gymnasium allows
               (undefined behaviour for termination: it warns and gives reward 0.0).
The actions are recorded, so the TypeScript side replays them as a fixed sequence.
"""

import json
import sys
import warnings

import gymnasium as gym
import numpy as np

warnings.simplefilter("ignore")  # Gymnasium warns when stepping after termination

MAX_STEPS = 500


def balance(obs):
    return 1 if obs[2] + 0.5 * obs[3] > 0 else 0


def play(seed, kind, choose, extra_steps=0):
    """Resets with `seed`, steps with `choose(obs, t)` until the end, plus `extra_steps`."""
    env = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=seed)
    state = env.unwrapped.state
    assert state.dtype == np.float64 and obs.dtype == np.float32
    assert np.array_equal(obs, state.astype(np.float32))
    ep = {
        "seed": seed,
        "kind": kind,
        "initial_state": [float(v) for v in state],
        "initial_observation": [float(v) for v in obs],
        "actions": [],
        "sincos": [],
        "states": [],
        "observations": [],
        "rewards": [],
        "terminated": [],
        "truncated": [],
    }
    t = 0
    remaining = None
    while remaining is None or remaining > 0:
        action = int(choose(obs, t))
        theta = env.unwrapped.state[2]
        ep["sincos"].append([float(np.sin(theta)), float(np.cos(theta))])
        obs, reward, terminated, truncated, _ = env.step(action)
        t += 1
        ep["actions"].append(action)
        ep["states"].append([float(v) for v in env.unwrapped.state])
        ep["observations"].append([float(v) for v in obs])
        ep["rewards"].append(float(reward))
        ep["terminated"].append(bool(terminated))
        ep["truncated"].append(bool(truncated))
        if remaining is not None:
            remaining -= 1
        elif terminated or truncated:
            remaining = extra_steps
    env.close()
    return ep


def random_actions(seed):
    rng = np.random.default_rng(10_000 + seed)
    return lambda obs, t: rng.integers(0, 2)


def noisy(seed):
    rng = np.random.default_rng(20_000 + seed)
    return lambda obs, t: rng.integers(0, 2) if rng.random() < 0.3 else balance(obs)


def switch_at(switch):
    return lambda obs, t: balance(obs) if t < switch else 1


def both_on_step_500(first_seed):
    """An episode that terminates on exactly step 500, where TimeLimit also truncates."""
    for seed in range(first_seed, first_seed + 20):
        for switch in range(MAX_STEPS - 1, MAX_STEPS - 30, -1):
            ep = play(seed, "both", switch_at(switch))
            if len(ep["actions"]) == MAX_STEPS and ep["terminated"][-1]:
                return ep
    raise RuntimeError(f"found no episode that terminates on step {MAX_STEPS}")


def main():
    episodes = []
    for seed in range(20):
        if seed < 10:
            episodes.append(play(seed, "balance", lambda obs, t: balance(obs)))
        elif seed < 15:
            episodes.append(play(seed, "random", random_actions(seed)))
        else:
            episodes.append(play(seed, "noisy", noisy(seed)))
    episodes.append(both_on_step_500(100))
    episodes.append(play(201, "past-end", random_actions(101), extra_steps=5))
    episodes.append(play(202, "past-end", lambda obs, t: balance(obs), extra_steps=3))

    unwrapped = gym.make("CartPole-v1").unwrapped
    constants = {
        name: getattr(unwrapped, name)
        for name in (
            "gravity",
            "masscart",
            "masspole",
            "total_mass",
            "length",
            "polemass_length",
            "force_mag",
            "tau",
            "kinematics_integrator",
            "theta_threshold_radians",
            "x_threshold",
        )
    }
    out = {
        "versions": {
            "python": sys.version.split()[0],
            "gymnasium": gym.__version__,
            "numpy": np.__version__,
        },
        "max_episode_steps": gym.spec("CartPole-v1").max_episode_steps,
        "constants": constants,
        "episodes": episodes,
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
