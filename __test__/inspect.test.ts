/**
 * What printing shows: what a user wants to see (kind, sizes, fields, queue figures,
 * pool location and item count), never internals (layouts, native refs); JSON of an
 * object carries no layout either.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { DataUser, DataUsersDict, openPool, RandomReplacementBuffer, ReplayBuffer, ReservoirBuffer, SequentialBuffer, StateStore } from '../ts/index.js';

const root = mkdtempSync(join(tmpdir(), 'expbuf-inspect-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const schema = { obs: { dtype: 'float32', shape: [2, 3] }, n: 'int32', note: 'any' } as const;
const step = { obs: [1, 2, 3, 4, 5, 6], n: 1, note: 'x' };
const show = (x: unknown) => inspect(x, { depth: 4, breakLength: Infinity });
/** No internals: native refs, layouts, symbols. */
const internals = /layout|native|Symbol|\[External|ctor|elements/i;

describe('printing', () => {
  it('buffers show kind, size / maxSize, fields with dtype and shape, and their rule', () => {
    const b = new SequentialBuffer(schema, 10);
    b.add(step);
    const s = show(b);
    expect(s).toMatch(/^SequentialBuffer \{/);
    expect(s).toContain('size: 1');
    expect(s).toContain('maxSize: 10');
    expect(s).toContain("obs: 'float32[2, 3]'");
    expect(s).toContain("note: 'any'");
    expect(s).not.toMatch(internals);
    expect(show(new RandomReplacementBuffer(schema, 10, { replaceProbability: 0.25 }))).toContain('replaceProbability: 0.25');
    expect(show(new ReservoirBuffer(schema, 10))).toContain('totalAdded: 0');
    b.close();
    expect(show(b)).toBe('SequentialBuffer { closed: true }');
    expect(JSON.parse(JSON.stringify(new SequentialBuffer(schema, 10)))).toEqual({ collectingDataNames: ['obs', 'n', 'note'], maxSize: 10 });
  });

  it('a user and its collector show the queue: length, bound, drops', () => {
    const u = new DataUser(new SequentialBuffer(schema, 10), { maxQueueSize: 2 });
    for (let i = 0; i < 3; i++) u.collector.collect(step);
    const s = show(u);
    expect(s).toMatch(/^DataUser \{ buffer: SequentialBuffer \{ size: 0, maxSize: 10/);
    expect(s).toContain('queued: 2');
    expect(s).toContain('maxQueueSize: 2');
    expect(s).toContain('dropped: 1');
    expect(show(u.collector)).toMatch(/^DataCollector \{ fields: .*queued: 2, maxQueueSize: 2, dropped: 1 \}$/);
    expect(s).not.toMatch(internals);
    const d = DataUsersDict.fromDataBuffers({ a: new SequentialBuffer(['x'], 3) });
    expect(show(d)).toMatch(/^DataUsersDict \{ a: DataUser \{/);
    d.dataCollectorsDict.acquire('a');
    expect(show(d.dataCollectorsDict)).toBe("DataCollectorsDict { names: [ 'a' ], acquired: [ 'a' ] }");
  });

  it('a pool shows where it is and how many items; a replay buffer its counts and settings', async () => {
    const dir = join(root, 'pool');
    const pool = await openPool(dir, { schema: { state: 'float32', action: 'int32', reward: 'float32' } });
    await pool.store([{ steps: { state: [1, 2], action: [0, 1], reward: [1, 1] } }]);
    expect(show(pool)).toBe(`EmbeddedPool { dir: '${dir}', items: 1, fields: { state: 'float32', action: 'int32', reward: 'float32' } }`);
    const rb = new ReplayBuffer({ pool, maxSize: 10, nStep: 3, priority: { alpha: 0.5 } });
    await rb.load();
    const s = show(rb);
    expect(s).toMatch(
      /^ReplayBuffer \{ size: 2, inserted: 2, sampled: 0, episodes: 1, maxSize: 10, fields: \{ state: 'float32', action: 'int32', reward: 'float32' \}, nStep: 3, gamma: 0.99, priority: \{ alpha: 0.5, beta: 0.4, epsilon: 0.000001 \}/,
    );
    expect(s).toContain('pool: EmbeddedPool');
    expect(s).not.toMatch(internals);
    await rb.close();
    expect(show(rb)).toBe('ReplayBuffer { closed: true }');
    expect(show(new StateStore(join(root, 'ss'), { keep: 2 }))).toBe(`StateStore { dir: '${join(root, 'ss')}', keep: 2, saveInterval: 600000 }`);
  });
});
