/**
 * The single-thread section (issues 2 and 11): expbuf against the specialized JS
 * baseline (bench/specialized.ts), every workload; the call floor of the binding;
 * and the generic JS baselines where they still show something. Steps of
 * { obs: float32[64], action: int32, reward: float32 } (264 bytes). Each
 * implementation and workload runs in its own process (bench/pipeline-child.ts).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildNapiFloor } from './napi-floor.js';
import type { RowCopyKind } from './specialized.js';
import { fmt, table, verdict } from './stats.js';

const ROW_BYTES = 64 * 4 + 4 + 4;
type Figures = Record<string, number>;

/** Runs `workloads` of `impl`, each in a child process of its own; their figures merged. */
function measure(impl: string, workloads: string[], extra: string[] = []): Figures {
  const child = fileURLToPath(new URL('./pipeline-child.js', import.meta.url));
  const figures: Figures = {};
  for (const w of workloads) {
    const out = execFileSync(process.execPath, ['--expose-gc', child, impl, w, ...extra], { encoding: 'utf8' });
    Object.assign(figures, JSON.parse(out.trim().split('\n').pop() as string) as Figures);
  }
  return figures;
}

/** The known figure of a napi-rs v3 class method call, issue 11's, for when the bench cannot build its own. */
const ISSUE_METHOD_NS = 550;

export function runPipelineBench(): void {
  const both = ['perStep', 'add', 'batched', 'updateEach', 'getData', 'sample64', 'size'];
  // The workloads that copy single rows run the specialized JS with each row copy, and
  // the faster is the baseline; the others copy in bulk (or not at all) and run once.
  const perRow = ['perStep', 'add', 'updateEach', 'sample64'];
  const unrolled = measure('specialized-unrolled', both);
  const set = measure('specialized-set', perRow);
  const js: Figures = { ...unrolled };
  const copyOf: Record<string, RowCopyKind | '—'> = Object.fromEntries(both.map((k) => [k, '—']));
  for (const k of perRow) {
    copyOf[k] = set[k] < unrolled[k] ? 'set' : 'unrolled';
    js[k] = Math.min(set[k], unrolled[k]);
  }
  const sampleCopy = copyOf.sample64 as RowCopyKind;
  const floorBuild = buildNapiFloor();
  const ex = { ...measure('expbuf', [...both, 'calls', 'counters']), ...('path' in floorBuild ? measure('expbuf', ['napiRs'], [floorBuild.path]) : {}) };
  const samp = measure('expbuf', ['sample256'], [sampleCopy, ...('path' in floorBuild ? [floorBuild.path] : [])]);
  // expbuf's columns are on huge pages when the kernel grants them: the floor over
  // memory like theirs is the one its sample stands against.
  const floor = samp.nativeFloor ?? samp.floor;
  const row = (name: string, key: string, digits: number) => [name, fmt(js[key], digits), copyOf[key], fmt(ex[key], digits), `${fmt(ex[key] / js[key], 2)}×`];
  table(
    'Single thread: expbuf against the specialized JS (bench/specialized.ts; where single rows are copied, the faster of its two row copies), steps of { obs: float32[64], action: int32, reward: float32 } into 100,000-row rings (median of 5 runs; each implementation, row copy and workload in its own process)',
    ['workload', 'specialized JS', 'JS row copy', 'expbuf', 'expbuf/JS'],
    [
      row('per-step collect, update() every 1,000 (1M steps), ns/step', 'perStep', 1),
      row('buffer.add(step) per step, no collector (1M steps), ns/step', 'add', 1),
      row('collectBatch(256), update() every 4 batches (1M rows), ns/row', 'batched', 1),
      row('per-step collect, update() after every collect (200k steps), ns/step', 'updateEach', 1),
      row('getData() of 100,000 rows, ns/row', 'getData', 2),
      row('sample(64) from 10,000 rows, µs/call', 'sample64', 2),
      row('reading buffer.size, ns', 'size', 2),
      [
        'sample(256) from 1,000,000 rows, µs/call (one process, alternating blocks)',
        fmt(samp.sampleSpecialized, 1),
        sampleCopy,
        fmt(samp.sampleExpbuf, 1),
        `${fmt(samp.sampleExpbuf / samp.sampleSpecialized, 2)}×`,
      ],
      [
        '  floor: 256 draws + one load per cache line of each drawn row, over the JS columns (4 KiB pages), µs',
        fmt(samp.floor, 1),
        '',
        '',
        `${fmt(samp.sampleExpbuf / samp.floor, 2)}× this floor`,
      ],
      [
        '  floor: the same in native code over columns on huge pages, as expbuf asks for its own (bench/napi-floor), µs',
        samp.nativeFloor === undefined ? `not measured (${'why' in floorBuild ? floorBuild.why : ''})` : fmt(samp.nativeFloor, 1),
        '',
        '',
        samp.nativeFloor === undefined ? '' : `${fmt(samp.sampleExpbuf / samp.nativeFloor, 2)}× this floor`,
      ],
    ],
  );
  console.log(
    `(Floors and both samples in one process, in alternating blocks. That process had ${fmt(samp.hugePagesMb)} MB on transparent huge pages with both buffers filled, ${fmt(samp.hugePagesMbWithFloor)} MB with the native floor's columns too.)`,
  );
  const method =
    ex.napiRsMethod !== undefined
      ? [
          ['napi-rs v3 #[napi] class method (bench/napi-floor, a bare crate)', fmt(ex.napiRsMethod, 1)],
          ['napi-rs v3 #[napi] free function (bench/napi-floor)', fmt(ex.napiRsFunction, 1)],
        ]
      : [[`napi-rs v3 #[napi] class method: not re-measured (${'why' in floorBuild ? floorBuild.why : ''}); issue 11's figure`, `~${ISSUE_METHOD_NS}`]];
  table(
    'The call floor: what a call costs before it does anything (ns per call in a loop of 5M, median of 5; the loop itself, a closure returning 0, included)',
    ['call', 'ns'],
    [
      ['the loop alone', fmt(ex.loop, 1)],
      ['native.noop(): a free function of this binding (raw Node-API)', fmt(ex.noop, 1)],
      ['user.update() with nothing queued (a method on a native-backed object; makes no native call)', fmt(ex.emptyUpdate, 1)],
      ...method,
      ["counter read: buffer.size (a Float64Array over native memory, after publishing this thread's staged rows)", fmt(ex.size, 1)],
      ['counter read: user.collector.droppedCount', fmt(ex.dropped, 1)],
    ],
  );
  const naive = measure('naive', ['perStep', 'memory']);
  const ref = measure('reference', ['perStep', 'memory']);
  table(
    `The generic JS baselines (issue 2), for what they show: JS as examples write it; resident memory per held row (1,000,000 rows; raw typed bytes: ${ROW_BYTES})`,
    ['implementation', 'per-step collect + update() every 1,000, ns/step', 'bytes/row', '× raw'],
    [
      ['naive array of step objects (ring)', fmt(naive.perStep, 1), fmt(naive.bytesPerRow, 1), fmt(naive.bytesPerRow / ROW_BYTES, 2)],
      ['TS reference buffer behind a JS queue', fmt(ref.perStep, 1), fmt(ref.bytesPerRow, 1), fmt(ref.bytesPerRow / ROW_BYTES, 2)],
      ['specialized JS (faster row copy)', fmt(js.perStep, 1), fmt(samp.bytesPerRowSpecialized, 1), fmt(samp.bytesPerRowSpecialized / ROW_BYTES, 2)],
      ['expbuf', fmt(ex.perStep, 1), fmt(samp.bytesPerRowExpbuf, 1), fmt(samp.bytesPerRowExpbuf / ROW_BYTES, 2)],
    ],
  );
  const ratio = (key: string) => `${fmt(ex[key] / js[key], 2)}×`;
  console.log(
    '\nTargets (issue 11, single thread; the same run, this machine):\n' +
      `- per-step collect + update ≤ 1.0× the specialized JS: ${verdict(ex.perStep <= js.perStep)} (${ratio('perStep')})\n` +
      `- per-step buffer.add ≤ 1.0× the specialized JS's add: ${verdict(ex.add <= js.add)} (${ratio('add')})\n` +
      `- batched collect + update ≤ 1.0×: ${verdict(ex.batched <= js.batched)} (${ratio('batched')})\n` +
      `- getData ≤ 1.0×: ${verdict(ex.getData <= js.getData)} (${ratio('getData')})\n` +
      `- per-step update() (after every collect) ≤ 3×: ${verdict(ex.updateEach <= 3 * js.updateEach)} (${ratio('updateEach')})\n` +
      `- counter reads ≤ 10 ns: ${verdict(Math.max(ex.size, ex.dropped) <= 10)} (size ${fmt(ex.size, 1)} ns, droppedCount ${fmt(ex.dropped, 1)} ns)\n` +
      `- sample(256) at the DRAM floor (taken as ≤ 1.25× the ${samp.nativeFloor === undefined ? 'JS floor, 4 KiB pages' : 'native floor, huge pages'}): ${verdict(samp.sampleExpbuf <= 1.25 * floor)} (${fmt(samp.sampleExpbuf / floor, 2)}× the floor; the specialized JS ${fmt(samp.sampleSpecialized / samp.floor, 2)}× the JS floor)\n` +
      `- memory ≤ 1.1× raw (issue 2): ${verdict(samp.bytesPerRowExpbuf / ROW_BYTES <= 1.1)} (${fmt(samp.bytesPerRowExpbuf / ROW_BYTES, 2)}×)`,
  );
}
