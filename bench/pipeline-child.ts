/**
 * One implementation and one workload of the single-thread section, in a fresh
 * process, so that one's heap (the naive buffer's million objects) or garbage never
 * lands on another's collections. Prints JSON: the figures of that workload.
 *
 * argv: <expbuf|specialized-unrolled|specialized-set|naive|reference> <workload> [arg] [arg2]
 * (specialized-*: the specialized JS with that row copy; arg: the napi-floor addon's
 * path for `napiRs`, the specialized JS's row copy for `sample256`, whose arg2 is the
 * addon's path).
 */
import { readFileSync } from 'node:fs';
import { ReferenceSequentialBuffer } from '../reference/buffers.js';
import { DataUser, SequentialBuffer } from '../ts/index.js';
import { native } from '../ts/native/binding.js';
import { NaiveBuffer, ReferencePipeline } from './baselines.js';
import { loadNapiFloor } from './napi-floor.js';
import { OBS, ROW_COPIES, SpecializedBuffer, SpecializedPipeline, touchRows, type RowCopyKind, type Step } from './specialized.js';
import { median, perCallNs, rss, timeNs } from './stats.js';

const [impl, workload, arg, arg2] = process.argv.slice(2);
/** The specialized JS's row copy: the implementation's, or `sample256`'s argument. */
const copy = ROW_COPIES[(impl.startsWith('specialized-') ? impl.slice('specialized-'.length) : (arg ?? 'unrolled')) as RowCopyKind];
const schema = { obs: { dtype: 'float32', shape: [OBS] }, action: 'int32', reward: 'float32' } as const;
/** Rows held by the buffers of every workload but the two samples. */
const HELD = 100_000;

/** What both pipelines (and the generic baselines) offer per step. */
interface Pipe {
  collect(s: Step): void;
  update(): unknown;
}

function pipe(maxSize = HELD): Pipe {
  switch (impl) {
    case 'expbuf': {
      const u = new DataUser(new SequentialBuffer(schema, maxSize), { maxQueueSize: Infinity });
      const c = u.collector;
      return { collect: (s) => c.collect(s), update: () => u.update() };
    }
    case 'specialized-unrolled':
    case 'specialized-set':
      return new SpecializedPipeline(new SpecializedBuffer(maxSize, copy));
    case 'reference':
      return new ReferencePipeline(new ReferenceSequentialBuffer(schema, maxSize, { seed: 1 }));
    default:
      return new NaiveBuffer(maxSize);
  }
}

/** Steps an environment hands over, reused as an env reuses its observation arrays. */
const POOL = 1024;
const pool: Step[] = Array.from({ length: POOL }, (_, i) => ({
  obs: Float32Array.from({ length: OBS }, (_, j) => i + j / OBS),
  action: i,
  reward: i / POOL,
}));

/** ns per step of `steps` collects with an update() after every `updateEvery`. */
function perStep(steps: number, updateEvery: number): number {
  const p = pipe();
  return (
    timeNs(() => {
      for (let i = 0; i < steps; i++) {
        p.collect(pool[i & (POOL - 1)]);
        if ((i + 1) % updateEvery === 0) p.update();
      }
      p.update();
    }) / steps
  );
}

/** One 256-row batch as columns. */
const B = 256;
const batch = {
  obs: new Float32Array(B * OBS).map((_, i) => i),
  action: new Int32Array(B).map((_, i) => i),
  reward: new Float32Array(B).fill(0.5),
};

/** ns per row of collectBatch(256) with an update() after every 4 batches. */
function batched(rows: number): number {
  const batches = Math.floor(rows / B);
  const collectBatch =
    impl === 'expbuf'
      ? (() => {
          const u = new DataUser(new SequentialBuffer(schema, HELD), { maxQueueSize: Infinity });
          return { collect: () => u.collector.collectBatch(batch), update: () => u.update() };
        })()
      : (() => {
          const p = new SpecializedPipeline(new SpecializedBuffer(HELD, copy));
          return { collect: () => p.collectBatch(batch), update: () => p.update() };
        })();
  return (
    timeNs(() => {
      for (let b = 1; b <= batches; b++) {
        collectBatch.collect();
        if (b % 4 === 0) collectBatch.update();
      }
      collectBatch.update();
    }) /
    (batches * B)
  );
}

/** ns per step of buffer.add(step), no collector. */
function add(steps: number): number {
  if (impl === 'expbuf') {
    const b = new SequentialBuffer(schema, HELD);
    return (
      timeNs(() => {
        for (let i = 0; i < steps; i++) b.add(pool[i & (POOL - 1)]);
        void b.size; // applies the staged adds inside the timing
      }) / steps
    );
  }
  const b = new SpecializedBuffer(HELD, copy);
  return (
    timeNs(() => {
      for (let i = 0; i < steps; i++) b.add(pool[i & (POOL - 1)]);
    }) / steps
  );
}

/** A buffer of `rows` rows, filled with 10,000-row batches; what the sample and getData workloads read. */
function filled(kind: string, rows: number): { sample(n: number): unknown; getData(): unknown; readonly size: number } {
  const chunk = 10_000;
  const obs = new Float32Array(chunk * OBS).map((_, i) => i % 1000);
  const action = new Int32Array(chunk).map((_, i) => i);
  const reward = new Float32Array(chunk).fill(1);
  if (kind === 'expbuf') {
    const b = new SequentialBuffer(schema, rows, { seed: 1 });
    for (let i = 0; i < rows; i += chunk) b.addBatch({ obs, action, reward });
    return b;
  }
  const b = new SpecializedBuffer(rows, copy);
  const src = { obs, action, reward, time: new Float64Array(chunk) };
  for (let i = 0; i < rows; i += chunk) b.addRows(src, 0, chunk);
  return b;
}

/** ns per read of `read()`, summed so that no read is optimized away. */
function readNs(read: () => number): number {
  const n = 5_000_000;
  let sink = 0;
  const ns =
    timeNs(() => {
      for (let i = 0; i < n; i++) sink += read();
    }) / n;
  if (sink === -1) console.error(sink);
  return ns;
}

/** kB of this process's memory backed by transparent huge pages. */
function hugePagesKb(): number {
  try {
    const m = /AnonHugePages:\s+(\d+)/.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

const workloads: Record<string, () => Record<string, number>> = {
  perStep: () => ({ perStep: perStep(1_000_000, 1000) }),
  updateEach: () => ({ updateEach: perStep(200_000, 1) }),
  batched: () => ({ batched: batched(1_000_000) }),
  add: () => ({ add: add(1_000_000) }),
  getData: () => {
    const b = filled(impl, HELD);
    return { getData: timeNs(() => b.getData(), 7) / HELD };
  },
  sample64: () => {
    const b = filled(impl, 10_000);
    return { sample64: perCallNs(() => b.sample(64), 200, 500) / 1000 };
  },
  size: () => {
    const b = filled(impl, 10_000);
    return { size: readNs(() => b.size) };
  },
  // The call floor (expbuf only), in three processes: `readNs` inlines at most a few
  // different closures; past that each read would pay a megamorphic call.
  calls: () => {
    const u = new DataUser(new SequentialBuffer(schema, HELD), { maxQueueSize: Infinity });
    return {
      noop: readNs(() => {
        native.noop();
        return 0;
      }),
      emptyUpdate: readNs(() => u.update()),
    };
  },
  counters: () => {
    const u = new DataUser(new SequentialBuffer(schema, HELD), { maxQueueSize: Infinity });
    return { loop: readNs(() => 0), size: readNs(() => u.buffer.size), dropped: readNs(() => u.collector.droppedCount) };
  },
  napiRs: () => {
    const floor = loadNapiFloor(arg);
    const obj = new floor.Floor();
    return {
      napiRsFunction: readNs(() => {
        floor.noop();
        return 0;
      }),
      napiRsMethod: readNs(() => {
        obj.touch();
        return 0;
      }),
    };
  },
  /**
   * sample(256) from 1,000,000 rows, expbuf and the specialized JS in one process
   * beside the floors (draws and one load per cache line of the drawn rows: in JS over
   * the specialized JS's columns and, with the napi-floor addon, in native code over
   * columns on huge pages as expbuf's are), alternating in blocks so that the host's
   * memory contention, which comes and goes, lands on all alike.
   */
  sample256: () => {
    const rows = 1_000_000;
    const before = rss();
    const e = filled('expbuf', rows);
    const mid = rss();
    const js = filled('specialized', rows) as SpecializedBuffer;
    const after = rss();
    const hugePagesMb = hugePagesKb() / 1024;
    const drawn = new Int32Array(256);
    let sink = 0;
    const runs = [
      { name: 'sampleExpbuf', fn: () => e.sample(256), t: [] as number[] },
      { name: 'sampleSpecialized', fn: () => js.sample(256), t: [] as number[] },
      { name: 'floor', fn: () => (sink += touchRows(js.cols, rows, 256, drawn)), t: [] as number[] },
    ];
    if (arg2 !== undefined) {
      const floor = loadNapiFloor(arg2);
      const mem = floor.hugePageMemory(rows * (OBS * 4 + 8));
      let seed = 1;
      runs.push({ name: 'nativeFloor', fn: () => (sink += floor.gatherFloor(mem, rows, OBS * 4, 256, seed++)), t: [] });
    }
    // Steady state is what a training loop sees: the first calls are slower while the
    // allocator and the page tables settle.
    for (const r of runs) for (let i = 0; i < 500; i++) r.fn();
    for (let rep = 0; rep < 15; rep++)
      for (const r of runs)
        r.t.push(
          timeNs(() => {
            for (let i = 0; i < 50; i++) r.fn();
          }, 1) / 50,
        );
    if (sink === -1) console.error(sink);
    return {
      ...Object.fromEntries(runs.map((r) => [r.name, median(r.t) / 1000])),
      bytesPerRowExpbuf: (mid - before) / rows,
      bytesPerRowSpecialized: (after - mid) / rows,
      hugePagesMb,
      hugePagesMbWithFloor: hugePagesKb() / 1024,
    };
  },
  /** Resident bytes per held row of the generic baselines. */
  memory: () => {
    const rows = 1_000_000;
    const before = rss();
    const p = pipe(rows);
    for (let i = 0; i < rows; i++) {
      // Fresh step objects: a buffer of objects holds what it was given.
      const s = pool[i & (POOL - 1)];
      p.collect({ obs: s.obs.slice(), action: i, reward: s.reward });
      if ((i + 1) % 1000 === 0) p.update();
    }
    const bytesPerRow = (rss() - before) / rows;
    p.update(); // keeps the buffer alive past the measurement
    return { bytesPerRow };
  },
};

const run = workloads[workload];
if (run === undefined) throw new Error(`workload: expected one of ${Object.keys(workloads).join(', ')}`);
console.log(JSON.stringify(run()));
