/**
 * Issue 12's section: ReplayBuffer inserts and samples. Workload: 1,000,000 steps of
 * { state: float32[64], action: int32, reward: float32 } in 200-step episodes across
 * 8 envs, batch 256; each configuration in its own process (bench/replay-child.ts).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmt, table, verdict } from './stats.js';

/** Raw bytes of one step's schema fields. */
const RAW = 64 * 4 + 4 + 4;

function measure(config: string): Record<string, number> {
  const child = fileURLToPath(new URL('./replay-child.js', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', child, config], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() as string) as Record<string, number>;
}

export function runReplayBench(): void {
  const seq = measure('sequential');
  const u1 = measure('uniform1');
  const u3 = measure('uniform3');
  const per = measure('prioritized');
  const small = measure('small');
  const us = (x: number) => fmt(x, 2);
  table(
    'Replay: 1,000,000 steps of { state: float32[64], action: int32, reward: float32 }, 200-step episodes across 8 envs, batch 256 (median of 15 blocks; each configuration in its own process)',
    ['operation', 'µs per call', 'ratio'],
    [
      ['add, per step (8 envs interleaved)', us(u1.addUs), '—'],
      ['addBatch of 8 steps (one vector-env step)', us(u1.addBatchUs), `${fmt(u1.addBatchUs / 8, 3)} µs/step`],
      ['SequentialBuffer.sample(256), same rows (reference)', us(seq.sampleUs), '1.00×'],
      ['sample(256) uniform, nStep 1', us(u1.sampleUs), `${fmt(u1.sampleUs / seq.sampleUs, 2)}× Sequential`],
      ['sample(256) uniform, nStep 3', us(u3.sampleUs), `${fmt(u3.sampleUs / u1.sampleUs, 2)}× nStep 1`],
      ['sample(256) prioritized, nStep 1', us(per.sampleUs), `${fmt(per.sampleUs / u1.sampleUs, 2)}× uniform`],
      ['updatePriorities(256)', us(per.updateUs), '—'],
      ['sampleSequences(32, 16)', us(u1.sequencesUs), `${fmt(u1.sequencesUs / (512 / 256) / seq.sampleUs, 2)}× Sequential per step`],
    ],
  );
  table(
    `Memory per held step (raw schema bytes: ${RAW}; resident set growth over 1,000,000 steps)`,
    ['buffer', 'bytes/step', '× raw'],
    [
      ['SequentialBuffer', fmt(seq.bytesPerStep, 1), fmt(seq.bytesPerStep / RAW, 3)],
      ['ReplayBuffer uniform (nStep 1)', fmt(u1.bytesPerStep, 1), fmt(u1.bytesPerStep / RAW, 3)],
      ['ReplayBuffer nStep 3', fmt(u3.bytesPerStep, 1), fmt(u3.bytesPerStep / RAW, 3)],
      ['ReplayBuffer prioritized', fmt(per.bytesPerStep, 1), fmt(per.bytesPerStep / RAW, 3)],
    ],
  );
  table(
    'Beside published figures of other systems (different machines and workloads; see the notes)',
    ['system, operation', 'µs per call'],
    [
      ['expbuf sample(256) from 100,000 steps, state float32[4], uniform (this machine)', us(small.sampleUs)],
      ['expbuf the same, prioritized (this machine)', us(small.prioritizedUs)],
      ['rlox: sample 256 from 100k, obs 4 (published, Apple M4)', '4.2'],
      ['flashbax: prioritized sample on CPU (published, JAX; its own buffer and batch)', '270'],
    ],
  );
  console.log(
    '\nTargets (issue 12):\n' +
      `- uniform nStep-1 sample ≤ 2.2× SequentialBuffer.sample(256): ${verdict(u1.sampleUs <= 2.2 * seq.sampleUs)} (${fmt(u1.sampleUs / seq.sampleUs, 2)}×)\n` +
      `- nStep 3 ≤ 1.3× nStep 1: ${verdict(u3.sampleUs <= 1.3 * u1.sampleUs)} (${fmt(u3.sampleUs / u1.sampleUs, 2)}×)\n` +
      `- prioritized ≤ 2× uniform: ${verdict(per.sampleUs <= 2 * u1.sampleUs)} (${fmt(per.sampleUs / u1.sampleUs, 2)}×)\n` +
      `- updatePriorities(256) ≤ 30 µs: ${verdict(per.updateUs <= 30)} (${us(per.updateUs)} µs)\n` +
      `- memory per held step ≤ 1.1× raw: ${verdict(Math.max(u1.bytesPerStep, u3.bytesPerStep) / RAW <= 1.1)} uniform (${fmt(u1.bytesPerStep / RAW, 3)}×), prioritized ${fmt(per.bytesPerStep / RAW, 3)}×`,
  );
}
