/**
 * Run in a fresh process per implementation so that one's heap (the naive buffer's
 * millions of objects) never slows another's garbage collections. Prints JSON.
 *
 * argv: <native|reference|naive|naive-shift> <workload>; each workload also runs in its own process,
 * so that garbage left by one never lands on the next one's collections.
 */
import { ReferenceSequentialBuffer } from '../reference/buffers.js';
import { DataUser, SequentialBuffer } from '../ts/index.js';
import { NaiveBuffer, ReferencePipeline, type Step } from './baselines.js';
import { median, timeNs } from './stats.js';

const [impl, workload] = process.argv.slice(2);
const schema = { obs: { dtype: 'float32', shape: [64] }, action: 'int32', reward: 'float32' } as const;

interface Sink {
  collect(s: Step): void;
  update(): void;
}

function sink(maxSize: number): Sink {
  if (impl === 'native') {
    const u = new DataUser(new SequentialBuffer(schema, maxSize), { maxQueueSize: Infinity });
    const c = u.collector;
    return { collect: (s) => c.collect(s), update: () => u.update() };
  }
  if (impl === 'reference') return new ReferencePipeline(new ReferenceSequentialBuffer(schema, maxSize, { seed: 1 }));
  return new NaiveBuffer(maxSize, impl === 'naive-shift' ? 'shift' : 'ring');
}

const POOL = 1024;
const pool: Step[] = Array.from({ length: POOL }, (_, i) => ({
  obs: Float32Array.from({ length: 64 }, (_, j) => i + j / 64),
  action: i,
  reward: i / POOL,
}));

/** Per-step collect; `fresh`: each step is a new object with a new Float32Array(64), as an environment returns it. */
function perStep(steps: number, updateEvery: number, fresh: boolean): number {
  const s = sink(100_000);
  // Shifting a full 100k array costs ~14 µs a step: fewer steps keep the bench short.
  const n = impl === 'naive-shift' ? Math.min(steps, 100_000) : steps;
  if (impl === 'naive-shift') for (let i = 0; i < 100_000; i++) s.collect(pool[i & (POOL - 1)]);
  return timeNs(() => {
    for (let i = 0; i < n; i++) {
      const p = pool[i & (POOL - 1)];
      s.collect(fresh ? { obs: p.obs.slice(), action: i, reward: p.reward } : p);
      if ((i + 1) % updateEvery === 0) s.update();
    }
    s.update();
  }) / n;
}

function batched(n: number): number {
  const B = 256;
  const obs = new Float32Array(B * 64).map((_, i) => i);
  const action = new Int32Array(B).map((_, i) => i);
  const reward = new Float32Array(B).fill(0.5);
  const batches = Math.floor(n / B);
  let run: () => void;
  if (impl === 'native') {
    const u = new DataUser(new SequentialBuffer(schema, 100_000), { maxQueueSize: Infinity });
    run = () => {
      for (let b = 0; b < batches; b++) {
        u.collector.collectBatch({ obs, action, reward });
        u.update();
      }
    };
  } else if (impl === 'reference') {
    const r = new ReferenceSequentialBuffer(schema, 100_000, { seed: 1 });
    run = () => {
      for (let b = 0; b < batches; b++) r.addBatch({ obs, action, reward });
    };
  } else {
    const nb = new NaiveBuffer(100_000);
    run = () => {
      for (let b = 0; b < batches; b++) {
        for (let k = 0; k < B; k++) nb.collect({ obs: obs.slice(k * 64, k * 64 + 64), action: action[k], reward: reward[k] });
        nb.update();
      }
    };
  }
  return timeNs(run) / (batches * B);
}

function filled(rows: number): { sample(n: number): unknown; getData(): unknown } {
  return filledKind(impl, rows);
}

function filledKind(kind: string, rows: number): { sample(n: number): unknown; getData(): unknown } {
  const chunk = 10_000;
  const obs = new Float32Array(chunk * 64).map((_, i) => i % 1000);
  const action = new Int32Array(chunk).map((_, i) => i);
  const reward = new Float32Array(chunk).fill(1);
  if (kind === 'naive') {
    const nb = new NaiveBuffer(rows);
    for (let i = 0; i < rows; i++) nb.collect({ obs: obs.slice((i % chunk) * 64, (i % chunk) * 64 + 64), action: i, reward: 1 });
    nb.update();
    return nb;
  }
  const b = kind === 'native' ? new SequentialBuffer(schema, rows, { seed: 1 }) : new ReferenceSequentialBuffer(schema, rows, { seed: 1 });
  for (let i = 0; i < rows; i += chunk) b.addBatch({ obs, action, reward });
  return { sample: (n) => b.sample(n), getData: () => b.getData() };
}

/**
 * The memory floor of a 256-row gather: one read per cache line of 256 random
 * 256-byte rows of a 256 MB column (a V8 Float32Array, on 4 KiB pages).
 */
function gatherFloorNs(col: Float32Array, reps: number): number {
  const rows = col.length / 64;
  let sum = 0;
  let seed = 12345;
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < 256; k++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const base = (seed % rows) * 64;
      sum += col[base] + col[base + 16] + col[base + 32] + col[base + 48];
    }
    t.push(Number(process.hrtime.bigint() - t0));
  }
  if (sum < 0) console.error(sum);
  return median(t);
}

function rss(): number {
  globalThis.gc?.();
  return process.memoryUsage().rss;
}

const workloads: Record<string, () => Record<string, number>> = {
  perStepPooled: () => ({ perStepPooled: perStep(1_000_000, 1000, false) }),
  perStepFresh: () => ({ perStepFresh: perStep(1_000_000, 1000, true) }),
  perStepUpdateEach: () => ({ perStepUpdateEach: perStep(200_000, 1, false) }),
  batched: () => ({ batched: batched(1_000_000) }),
  getData: () => {
    const small = filled(100_000);
    return { getData: timeNs(() => small.getData(), 7) / 100_000 };
  },
  sample: (): Record<string, number> => {
    if (impl === 'naive') {
      const before = rss();
      const big = filled(1_000_000);
      const bytesPerRow = (rss() - before) / 1_000_000;
      for (let i = 0; i < 500; i++) big.sample(256);
      return { bytesPerRow, sample: timeNs(() => { for (let i = 0; i < 200; i++) big.sample(256); }) / 200 };
    }
    // Native and reference share one process and alternate, so that the host's memory
    // contention, which comes and goes, lands on both alike. The floor runs in a block
    // of its own first: its random reads over another 256 MB would evict the page-table
    // entries the next sample() needs.
    const both = ['native', 'reference'].map((k) => {
      const before = rss();
      const b = filledKind(k, 1_000_000);
      return { k, b, bytesPerRow: (rss() - before) / 1_000_000, t: [] as number[] };
    });
    let floorCol: Float32Array | undefined = new Float32Array(1_000_000 * 64).fill(1);
    const floorT: number[] = [];
    for (let rep = 0; rep < 15; rep++) floorT.push(gatherFloorNs(floorCol, 200));
    floorCol = undefined;
    // Steady state is what a training loop sees: the first ~100 native calls are slower
    // while the allocator settles.
    for (const x of both) for (let i = 0; i < 500; i++) x.b.sample(256);
    for (let rep = 0; rep < 15; rep++) {
      for (const x of both) x.t.push(timeNs(() => { for (let i = 0; i < 50; i++) x.b.sample(256); }, 1) / 50);
    }
    return {
      sampleNative: median(both[0].t),
      sampleReference: median(both[1].t),
      bytesPerRowNative: both[0].bytesPerRow,
      bytesPerRowReference: both[1].bytesPerRow,
      floor: median(floorT),
    };
  },
};
const run = workloads[workload];
if (run === undefined) throw new Error(`workload: expected one of ${Object.keys(workloads).join(', ')}`);
console.log(JSON.stringify(run()));
