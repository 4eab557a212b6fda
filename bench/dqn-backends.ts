/**
 * `npm run bench -- dqn`: the main job's training step (examples/dqn/q-network.ts, its
 * layers and batch size) on each tfjs backend available offline from npm. Each variant
 * runs in its own process (the WASM binary is chosen once per process); each figure is
 * the median of 5 runs of 200 steps after 100 warm-up steps.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useBackend, type BackendChoice, type BackendName } from '../examples/dqn/backend.js';
import { HYPERPARAMETERS as H } from '../examples/dqn/hyperparameters.js';
import { DoubleDqn, type DqnBatch } from '../examples/dqn/q-network.js';
import { fmt, median, table } from './stats.js';

const VARIANTS: Record<string, { backend: BackendName; choice: BackendChoice }> = {
  cpu: { backend: 'cpu', choice: {} },
  'wasm, no SIMD': { backend: 'wasm', choice: { simd: false } },
  'wasm, SIMD': { backend: 'wasm', choice: {} },
  'wasm, SIMD, threads forced on': { backend: 'wasm', choice: { forceThreads: true } },
};

function batch(n: number): DqnBatch {
  const r = (k: number) => Float32Array.from({ length: k }, (_, i) => Math.sin(i * 12.9898) * 0.1);
  return {
    state: r(n * 4),
    action: Int32Array.from({ length: n }, (_, i) => i % 2),
    reward: new Float32Array(n).fill(2.97),
    nextState: r(n * 4).reverse(),
    done: new Uint8Array(n),
    discount: new Float32Array(n).fill(0.97),
    weights: new Float32Array(n).fill(1),
  };
}

/** In the child: ms per training step. */
async function measure(variant: string): Promise<{ ms: number; runs: number[]; backend: string }> {
  const v = VARIANTS[variant];
  const backend = await useBackend(v.backend, v.choice);
  const net = new DoubleDqn({ layers: H.layers, learningRate: H.learningRate, seed: 1 });
  const b = batch(H.batchSize);
  for (let i = 0; i < 100; i++) net.trainStep(b);
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) net.trainStep(b);
    runs.push((performance.now() - t0) / 200);
  }
  return { ms: median(runs), runs, backend };
}

export function runDqnBackendBench(): void {
  const rows: (string | number)[][] = [];
  for (const variant of Object.keys(VARIANTS)) {
    try {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), variant], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const r = JSON.parse(out.trim().split('\n').at(-1) ?? '') as Awaited<ReturnType<typeof measure>>;
      rows.push([variant, r.backend, fmt(r.ms, 2), r.runs.map((x) => x.toFixed(2)).join(' ')]);
    } catch (e) {
      const msg =
        String((e as { stderr?: string }).stderr ?? e)
          .split('\n')
          .find((l) => /Error|error/.test(l)) ?? 'failed';
      rows.push([variant, 'did not start', '—', msg.trim().slice(0, 80)]);
    }
  }
  table(`DQN training step (layers ${H.layers.join('-')}, batch ${H.batchSize}): ms per step`, ['variant', 'runs as', 'median ms', 'runs'], rows);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] !== undefined) console.log(JSON.stringify(await measure(process.argv[2])));
  else runDqnBackendBench();
}
