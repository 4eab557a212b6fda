#!/usr/bin/env node
// CI's check of a main-job run (`npm start -- --steps N --state-dir DIR > DIR/run.log`):
// the run finished (its last line is the final greedy evaluation) and its learning
// curve rose above random play. No timing and no "solved" bar: a short run on a
// shared machine is judged on the trend only.
// Usage: node scripts/check-learning-curve.mjs DIR (reads DIR/run.log, DIR/learning-curve.csv)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const RANDOM_PLAY = 22; // mean return of a uniformly random CartPole-v1 policy
const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: check-learning-curve.mjs STATE_DIR');
const fail = (msg) => {
  console.error(`check-learning-curve: ${msg}`);
  process.exit(1);
};

const last = readFileSync(join(dir, 'run.log'), 'utf8').trim().split('\n').at(-1);
const final = /^final greedy evaluation: mean return ([\d.]+) over 10 episodes$/.exec(last ?? '');
if (final === null) fail(`the run did not finish: its last line is ${JSON.stringify(last)}`);

const rows = readFileSync(join(dir, 'learning-curve.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','));
const means = rows.filter((r) => r[1] === 'episode').map((r) => Number(r[4]));
if (means.length < 20) fail(`only ${means.length} episodes in the curve`);
const best = Math.max(...means.slice(19));
// Twice random play's mean, over 20 episodes, is far outside random play's spread.
if (!(best > 2 * RANDOM_PLAY)) fail(`the moving mean of 20 episodes never rose above ${2 * RANDOM_PLAY} (best ${best})`);
console.log(
  `check-learning-curve: finished (final greedy evaluation ${final[1]}), best moving mean of 20 episodes ${best} > ${2 * RANDOM_PLAY} (random play ≈ ${RANDOM_PLAY})`,
);
