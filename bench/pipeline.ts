/**
 * Issue 2's section: the single-thread data pipeline, native vs TS reference vs naive.
 * Workload: steps of { obs: float32[64], action: int32, reward: float32 } (264 bytes).
 * Each implementation runs in its own process (bench/pipeline-child.ts).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmt, table } from './stats.js';

const ROW_BYTES = 64 * 4 + 4 + 4;
type Figures = Record<string, number>;

const WORKLOADS = ['perStepFresh', 'perStepPooled', 'perStepUpdateEach', 'batched', 'getData'];

function measure(impl: string): Figures {
  const child = fileURLToPath(new URL('./pipeline-child.js', import.meta.url));
  const figures: Figures = {};
  const workloads = impl === 'native' || impl === 'naive' ? [...WORKLOADS, 'sample'] : impl === 'naive-shift' ? ['perStepFresh', 'perStepPooled'] : WORKLOADS;
  for (const w of workloads) {
    const out = execFileSync(process.execPath, ['--expose-gc', child, impl, w], { encoding: 'utf8' });
    Object.assign(figures, JSON.parse(out.trim().split('\n').pop() as string) as Figures);
  }
  return figures;
}

export function runPipelineBench(): void {
  const [nat, ref, naive, shift] = ['native', 'reference', 'naive', 'naive-shift'].map(measure);
  const perSec = (ns: number) => fmt(1e9 / ns);
  const opt = (x: number | undefined) => (x === undefined ? '—' : fmt(x, 1));
  const row = (name: string, key: string) => [
    name,
    fmt(nat[key], 1),
    perSec(nat[key]),
    fmt(ref[key], 1),
    perSec(ref[key]),
    fmt(naive[key], 1),
    perSec(naive[key]),
    opt(shift[key]),
  ];
  table(
    'Single-thread pipeline, steps of { obs: float32[64], action: int32, reward: float32 } (median of 5 runs; each implementation and workload in its own process)',
    ['workload', 'native ns/row', 'native rows/s', 'TS ref ns/row', 'TS ref rows/s', 'naive ring ns/row', 'naive ring rows/s', 'naive push+shift ns/row'],
    [
      row('per-step collect, fresh step objects, update() every 1,000 (1M steps)', 'perStepFresh'),
      row('per-step collect, reused step objects, update() every 1,000 (1M steps)', 'perStepPooled'),
      row('per-step collect, update() every step (200k steps)', 'perStepUpdateEach'),
      row('collectBatch of 256 rows + update() (1M rows)', 'batched'),
      row('getData() of 100,000 rows (per row)', 'getData'),
    ],
  );
  const samp = { native: nat.sampleNative, reference: nat.sampleReference, floor: nat.floor };
  table('sample(256) from a full buffer of 1,000,000 rows (back-to-back calls after 500 warm-up calls; native and TS reference alternate in one process; median of 15 × 50)', ['implementation', 'µs per batch'], [
    ['native', fmt(samp.native / 1000, 1)],
    ['TS reference', fmt(samp.reference / 1000, 1)],
    ['naive array (own process)', fmt(naive.sample / 1000, 1)],
    ['floor: 1,024 random cache-line reads of a 256 MB Float32Array', fmt(samp.floor / 1000, 1)],
  ]);
  const natMem = nat.bytesPerRowNative;
  const refMem = nat.bytesPerRowReference;
  const naiveMem = naive.bytesPerRow;
  table(`Resident memory per held row (1,000,000 rows; raw typed bytes: ${ROW_BYTES})`, ['implementation', 'bytes/row', '× raw'], [
    ['native', fmt(natMem, 1), fmt(natMem / ROW_BYTES, 2)],
    ['TS reference', fmt(refMem, 1), fmt(refMem / ROW_BYTES, 2)],
    ['naive array', fmt(naiveMem, 1), fmt(naiveMem / ROW_BYTES, 2)],
  ]);
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(
    '\nTargets (issue 2):\n' +
      `- per-step native ≤ TS reference: ${verdict(nat.perStepPooled <= ref.perStepPooled)} (${fmt(nat.perStepPooled, 1)} vs ${fmt(ref.perStepPooled, 1)} ns reused steps; ${fmt(nat.perStepFresh, 1)} vs ${fmt(ref.perStepFresh, 1)} ns fresh)\n` +
      `- per-step native ≥ 3× naive: against push+shift ${verdict(shift.perStepPooled / nat.perStepPooled >= 3)} (${fmt(shift.perStepPooled / nat.perStepPooled, 1)}×); ` +
      `against the ring form ${verdict(naive.perStepPooled / nat.perStepPooled >= 3)} (${fmt(naive.perStepPooled / nat.perStepPooled, 2)}× reused steps, ${fmt(naive.perStepFresh / nat.perStepFresh, 2)}× fresh steps)\n` +
      `- batched ≥ 2× per-step: ${verdict(nat.perStepPooled / nat.batched >= 2)} (${fmt(nat.perStepPooled / nat.batched, 1)}×); batched ≤ TS reference batched: ${verdict(nat.batched <= ref.batched)}\n` +
      `- sample(256) ≤ TS reference: ${verdict(samp.native <= samp.reference)}\n` +
      `- memory ≤ 1.1× raw: ${verdict(natMem / ROW_BYTES <= 1.1)}`,
  );
}
