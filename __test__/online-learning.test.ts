/**
 * The main job (examples/online-learning.ts, compiled into dist/ as `npm start` runs it):
 * a short run ends with the line scripts parse and writes its learning curve beside its
 * state; `--resume` continues it: the replay buffer, the step counts, the curve and
 * Adam's step count carry on from where the first run stopped.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const job = join(import.meta.dirname, '..', 'dist', 'examples', 'online-learning.js');
const dir = mkdtempSync(join(tmpdir(), 'expbuf-main-job-'));

async function start(...args: string[]): Promise<string[]> {
  const { stdout } = await run(process.execPath, [job, '--quiet', '--seed', '2', '--save-every', '0', '--state-dir', dir, ...args], { timeout: 120_000 });
  return stdout.trim().split('\n');
}

/** The newest state's trainer file. */
function savedTrainer(): { adam: { iterations: number }; progress: { gradientSteps: number; envSteps: number; episodes: unknown[]; evaluations: unknown[] } } {
  const newest =
    readdirSync(dir)
      .filter((f) => f.endsWith('.state'))
      .sort()
      .at(-1) ?? '';
  return JSON.parse(readFileSync(join(dir, newest, 'trainer', 'dqn.json'), 'utf8'));
}

const csvSteps = () =>
  readFileSync(join(dir, 'learning-curve.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('main job', () => {
  let first: ReturnType<typeof savedTrainer>;

  it('runs, saves, ends with the final evaluation line and writes the curve', async () => {
    const out = await start('--steps', '3000');
    expect(out.at(-1)).toMatch(/^final greedy evaluation: mean return \d+(\.\d)? over 10 episodes$/);
    expect(out.join('\n')).toContain('3000 env steps this run (3000 in all)');
    first = savedTrainer();
    expect(first.progress.envSteps).toBe(3000);
    expect(first.progress.gradientSteps).toBeGreaterThan(0);
    expect(first.adam.iterations).toBe(first.progress.gradientSteps);
    const svg = readFileSync(join(dir, 'learning-curve.svg'), 'utf8');
    expect(svg).toContain('<polyline class="episodes"');
    const rows = csvSteps();
    expect(rows.filter((r) => r[1] === 'episode')).toHaveLength(first.progress.episodes.length);
    expect(rows.filter((r) => r[1] === 'evaluation')).toHaveLength(first.progress.evaluations.length);
  });

  it('resumes: buffer, counts, curve and optimizer continue', async () => {
    const out = await start('--steps', '1000', '--resume');
    expect(out[0]).toBe(
      `resumed from ${join(
        dir,
        readdirSync(dir)
          .filter((f) => f.endsWith('.state'))
          .sort()[0],
      )}: 3000 steps held, ${first.progress.gradientSteps} gradient steps, 3000 env steps, ${first.progress.episodes.length} episodes done`,
    );
    expect(out.join('\n')).toContain('1000 env steps this run (4000 in all)');
    const second = savedTrainer();
    expect(second.progress.envSteps).toBe(4000);
    expect(second.progress.gradientSteps).toBeGreaterThan(first.progress.gradientSteps);
    expect(second.adam.iterations).toBe(second.progress.gradientSteps);
    // The curve holds the first run's episodes, then episodes ending after step 3000.
    const episodes = csvSteps().filter((r) => r[1] === 'episode');
    expect(episodes.length).toBeGreaterThan(first.progress.episodes.length);
    expect(Number(episodes.at(-1)?.[0])).toBeGreaterThan(3000);
    expect(episodes.map((r) => Number(r[2]))).toEqual(episodes.map((_, i) => i + 1));
  });
});
