/**
 * Child process of the limits test: makes one call whose size argument would take
 * more memory than the machine has (argv[2] names it) and prints the error it got as
 * JSON (`{ code, message }`), or `{ code: null }` if the call returned.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataUser, openPool, ReplayBuffer, SequentialBuffer } from '../../ts/index.js';

const obs = { obs: { dtype: 'float32', shape: [4] } } as const;
const replaySchema = { state: { dtype: 'float32', shape: [4] }, action: 'int32', reward: 'float32' } as const;

function filledReplay(): ReplayBuffer<typeof replaySchema> {
  const rb = new ReplayBuffer({ schema: replaySchema, maxSize: 100, seed: 1 });
  for (let t = 0; t < 100; t++) rb.add({ state: [t, 0, 0, 0], action: 0, reward: 1, nextState: [t + 1, 0, 0, 0], terminated: t % 10 === 9 });
  return rb;
}

export const CASES: Record<string, () => unknown | Promise<unknown>> = {
  sample: () => {
    const b = new SequentialBuffer(obs, 100, { seed: 1 });
    b.addBatch({ obs: new Float32Array(400) });
    return b.sample(1e9);
  },
  maxSize: () => new SequentialBuffer({ obs: { dtype: 'float32', shape: [1024] } }, 2 ** 31 - 1),
  maxQueueSize: () => new DataUser(new SequentialBuffer(obs, 10), { maxQueueSize: 1e15 }),
  replayMaxSize: () => new ReplayBuffer({ schema: { ...replaySchema, state: { dtype: 'float32', shape: [4096] } }, maxSize: 2 ** 31 - 1 }),
  replaySample: () => filledReplay().sample(1e9),
  sampleSequences: () => filledReplay().sampleSequences(1e8, 100),
  sampleEpisodes: () => filledReplay().sampleEpisodes(1e9),
  pageSize: async () => {
    const pool = await openPool(join(mkdtempSync(join(tmpdir(), 'expbuf-huge-')), 'p'), { schema: replaySchema });
    try {
      for await (const page of pool.iterate(undefined, { pageSize: 1e9 })) return page;
    } finally {
      await pool.close();
    }
  },
};

const which = process.argv[2];
if (which !== undefined && process.argv[1]?.endsWith('huge.js')) {
  const run = CASES[which];
  if (run === undefined) throw new Error(`case: expected one of ${Object.keys(CASES).join(', ')}`);
  try {
    await run();
    console.log(JSON.stringify({ code: null }));
  } catch (e) {
    const err = e as { code?: string; message?: string; constructor: { name: string } };
    console.log(JSON.stringify({ code: err.code ?? null, message: err.message, type: err.constructor.name }));
  }
}
