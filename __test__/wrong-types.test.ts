/**
 * A wrong JS type for every public argument (as plain JS, or a caller's `as never`,
 * can pass): an `ExpbufError` with a code of `ERROR_CODES` and a message naming the argument,
 * never a raw engine or Node error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataCollector,
  DataUser,
  DataUsersDict,
  ExpbufError,
  openPool,
  RandomReplacementBuffer,
  ReplayBuffer,
  ReservoirBuffer,
  SequentialBuffer,
  StateStore,
  Trainer,
  type ErrorCode,
} from '../ts/index.js';

const root = mkdtempSync(join(tmpdir(), 'expbuf-types-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const schema = { obs: { dtype: 'float32', shape: [2] }, n: 'int32' } as const;
const replaySchema = { state: { dtype: 'float32', shape: [2] }, action: 'int32', reward: 'float32' } as const;
const W = 'wrong' as never;
/** For arguments that take a string. */
const N = 42 as never;

function filled() {
  const b = new SequentialBuffer(schema, 8, { seed: 1 });
  for (let i = 0; i < 4; i++) b.add({ obs: [i, i], n: i });
  return b;
}
function replay() {
  const rb = new ReplayBuffer({ schema: replaySchema, maxSize: 8, seed: 1, priority: {} });
  for (let i = 0; i < 4; i++) rb.add({ state: [i, 0], action: i, reward: 0, nextState: [i + 1, 0], terminated: i === 3 });
  return rb;
}

/** The smallest concrete trainer. */
class NoopTrainer extends Trainer {
  train(): void {}
}

type Case = [string, () => unknown, ErrorCode, string];
const INVALID: ErrorCode = 'EXPBUF_INVALID_ARGUMENT';
const BAD: ErrorCode = 'EXPBUF_BAD_VALUE';

const cases: Case[] = [
  // Buffers
  ['new SequentialBuffer(fields: 42)', () => new SequentialBuffer(42 as never, 8), INVALID, 'fields'],
  ['new SequentialBuffer(maxSize: "8")', () => new SequentialBuffer(schema, '8' as never), INVALID, 'maxSize'],
  ['new SequentialBuffer(maxSize: Infinity)', () => new SequentialBuffer(schema, Infinity), INVALID, 'maxSize: Infinity'],
  ['new SequentialBuffer(options: "x")', () => new SequentialBuffer(schema, 8, W), INVALID, 'options'],
  ['new SequentialBuffer({ seed: "1" })', () => new SequentialBuffer(schema, 8, { seed: W }), INVALID, 'options.seed'],
  ['new SequentialBuffer({ sed: 1 })', () => new SequentialBuffer(schema, 8, { sed: 1 } as never), INVALID, "'sed'"],
  [
    'new RandomReplacementBuffer({ replaceProbability: "1" })',
    () => new RandomReplacementBuffer(schema, 8, { replaceProbability: W }),
    INVALID,
    'replaceProbability',
  ],
  [
    'new RandomReplacementBuffer({ expectedSurvivalLength: {} })',
    () => new RandomReplacementBuffer(schema, 8, { expectedSurvivalLength: {} as never }),
    INVALID,
    'expectedSurvivalLength',
  ],
  ['new ReservoirBuffer({ replace: false })', () => new ReservoirBuffer(schema, 8, { replace: false } as never), INVALID, "'replace'"],
  ['a schema with shape [0]', () => new SequentialBuffer({ obs: { dtype: 'float32', shape: [0] } }, 8), INVALID, 'shape'],
  ['a schema with dtype "float16"', () => new SequentialBuffer({ obs: 'float16' as never }, 8), INVALID, 'float16'],
  ['sample("64")', () => filled().sample(W), INVALID, 'batchSize'],
  ['sample(4, { replacement: "no" })', () => filled().sample(4, { replacement: W }), INVALID, 'options.replacement'],
  ['sample(4, 5)', () => filled().sample(4, W), INVALID, 'options'],
  ['sampleInto(5)', () => filled().sampleInto(W), INVALID, 'out'],
  ['sampleInto({ obs: number[] })', () => filled().sampleInto({ obs: [1, 2] as never, n: new Int32Array(1) }), INVALID, 'obs'],
  ['get("0")', () => filled().get(W), INVALID, 'index'],
  ['addBatch(5)', () => filled().addBatch(W), BAD, 'columns'],
  ['addBatch({ obs: "x", n: [1] })', () => filled().addBatch({ obs: W, n: [1] }), BAD, 'obs'],
  [
    'addBatch with a 60-element obs for 16 rows',
    () =>
      new SequentialBuffer({ obs: { dtype: 'float32', shape: [4] }, action: 'int32', reward: 'float32' }, 32).addBatch({
        obs: new Float32Array(60),
        action: new Int32Array(16),
        reward: new Float32Array(16),
      }),
    BAD,
    "field 'obs'",
  ],
  ['SequentialBuffer.fromHandle(5)', () => SequentialBuffer.fromHandle(W), INVALID, 'handle'],
  // Pipeline
  ['new DataUser({})', () => new DataUser({} as never), INVALID, 'buffer'],
  ['new DataUser(b, { maxQueueSize: "5" })', () => new DataUser(filled(), { maxQueueSize: W }), INVALID, 'options.maxQueueSize'],
  ['new DataUser(b, { maxQueue: 5 })', () => new DataUser(filled(), { maxQueue: 5 } as never), INVALID, "'maxQueue'"],
  ['countDataAddedSince("yesterday")', () => new DataUser(filled()).countDataAddedSince(W), INVALID, 'since'],
  ['collectBatch(5)', () => new DataUser(filled()).collector.collectBatch(W), BAD, 'columns'],
  ['DataCollector.fromHandle("x")', () => DataCollector.fromHandle(W), INVALID, 'handle'],
  ['DataUsersDict.fromDataBuffers(5)', () => DataUsersDict.fromDataBuffers(W), INVALID, 'buffers'],
  ['DataUsersDict.fromDataBuffers({ a: 5 })', () => DataUsersDict.fromDataBuffers({ a: W }), INVALID, 'buffers.a'],
  ['acquire(42)', () => DataUsersDict.fromDataBuffers({ a: filled() }).dataCollectorsDict.acquire(N), 'EXPBUF_NOT_FOUND', 'name'],
  ['new Trainer({ minBufferSize: "3" })', () => new NoopTrainer({ minBufferSize: W, trainingConditionDataUser: 'a' }), INVALID, 'minBufferSize'],
  ['new Trainer({ minBuffer: 3 })', () => new NoopTrainer({ minBuffer: 3 } as never), INVALID, "'minBuffer'"],
  ['new StateStore(42)', () => new StateStore(N), INVALID, 'dir'],
  ['new StateStore(dir, { keep: "2" })', () => new StateStore(join(root, 'ss'), { keep: W }), INVALID, 'keep'],
  // Replay
  ['new ReplayBuffer(5)', () => new ReplayBuffer(W), INVALID, 'options'],
  ['new ReplayBuffer({ maxSize: "8" })', () => new ReplayBuffer({ schema: replaySchema, maxSize: W }), INVALID, 'options.maxSize'],
  ['new ReplayBuffer({ nStep: "3" })', () => new ReplayBuffer({ schema: replaySchema, maxSize: 8, nStep: W }), INVALID, 'options.nStep'],
  ['new ReplayBuffer({ gamma: "0.9" })', () => new ReplayBuffer({ schema: replaySchema, maxSize: 8, gamma: W }), INVALID, 'options.gamma'],
  ['new ReplayBuffer({ priority: 5 })', () => new ReplayBuffer({ schema: replaySchema, maxSize: 8, priority: W }), INVALID, 'options.priority'],
  ['new ReplayBuffer({ rateLimit: "x" })', () => new ReplayBuffer({ schema: replaySchema, maxSize: 8, rateLimit: W }), INVALID, 'options.rateLimit'],
  ['new ReplayBuffer({ seed: "1" })', () => new ReplayBuffer({ schema: replaySchema, maxSize: 8, seed: W }), INVALID, 'options.seed'],
  ['replay sample("64")', () => replay().sample(W), INVALID, 'batchSize'],
  ['replay canSample("1")', () => replay().canSample(W), INVALID, 'batchSize'],
  ['replay sampleSequences("2", 3)', () => replay().sampleSequences(W, 3), INVALID, 'n'],
  ['replay sampleSequences(2, "3")', () => replay().sampleSequences(2, W), INVALID, 'length'],
  ['replay sampleEpisodes("2")', () => replay().sampleEpisodes(W), INVALID, 'n'],
  ['replay updatePriorities("x", [1])', () => replay().updatePriorities(W, [1]), INVALID, 'ids'],
  ['replay updatePriorities([0], 5)', () => replay().updatePriorities([0], W), INVALID, 'priorities'],
  ['replay beta = "0.5"', () => (replay().beta = W), INVALID, 'beta'],
  ['replay addBatch(5)', () => replay().addBatch(W), BAD, 'columns'],
  ['replay get("0")', () => replay().get(W), INVALID, 'index'],
  ['ReplayBuffer.fromHandle(5)', () => ReplayBuffer.fromHandle(W), INVALID, 'handle'],
];

const asyncCases: [string, () => Promise<unknown>, ErrorCode, string][] = [
  ['saveState(42)', () => filled().saveState(N), INVALID, 'dir'],
  ['loadState({})', () => filled().loadState({} as never), INVALID, 'dir'],
  ['replay saveState(42)', () => replay().saveState(N), INVALID, 'dir'],
  ['replay loadState(42)', () => replay().loadState(N), INVALID, 'dir'],
  ['replay sampleAsync("4")', () => replay().sampleAsync(W), INVALID, 'batchSize'],
  ['replay sampleAsync(1, { timeoutMs: "5" })', () => replay().sampleAsync(1, { timeoutMs: W }), INVALID, 'options.timeoutMs'],
  ['replay insertAllowed({ timeout: 5 })', () => replay().insertAllowed({ timeout: 5 } as never), INVALID, "'timeout'"],
  ['replay store without a pool', () => replay().store(W), INVALID, 'pool'],
  ['openPool(42)', () => openPool(N, { schema }), INVALID, 'url'],
  ['openPool(dir, { schema: 5 })', () => openPool(join(root, 'p0'), { schema: W }), INVALID, 'fields'],
  ['openPool(dir, { schem: {} })', () => openPool(join(root, 'p1'), { schem: {} } as never), INVALID, "'schem'"],
  [
    'pool.store("x")',
    async () => {
      await using pool = await openPool(join(root, 'p2'), { schema });
      await pool.store(W);
    },
    INVALID,
    'items',
  ],
  [
    'pool.find({ meta: 5 })',
    async () => {
      await using pool = await openPool(join(root, 'p3'), { schema });
      await pool.find({ meta: W });
    },
    INVALID,
    'meta',
  ],
  [
    'pool.sample("3")',
    async () => {
      await using pool = await openPool(join(root, 'p4'), { schema });
      await pool.sample(W);
    },
    INVALID,
    'size',
  ],
  [
    'pool.delete(42)',
    async () => {
      await using pool = await openPool(join(root, 'p5'), { schema });
      await pool.delete(N);
    },
    INVALID,
    'id',
  ],
  [
    'pool.iterate(undefined, { pageSize: "5" })',
    async () => {
      await using pool = await openPool(join(root, 'p6'), { schema });
      for await (const _ of pool.iterate(undefined, { pageSize: W })) break;
    },
    INVALID,
    'pageSize',
  ],
];

function expectCoded(e: unknown, code: ErrorCode, names: string): void {
  expect(e).toBeInstanceOf(ExpbufError);
  expect((e as ExpbufError).code).toBe(code);
  expect((e as ExpbufError).message).toContain(names);
}

describe('a wrong JS type for a public argument is a coded ExpbufError naming it', () => {
  it.each(cases)('%s', (_name, call, code, names) => {
    let caught: unknown;
    try {
      call();
    } catch (e) {
      caught = e;
    }
    expectCoded(caught, code, names);
  });

  it.each(asyncCases)('%s', async (_name, call, code, names) => {
    let caught: unknown;
    try {
      await call();
    } catch (e) {
      caught = e;
    }
    expectCoded(caught, code, names);
  });
});
