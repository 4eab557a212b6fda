import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openPool } from '../ts/index.js';
import { episode, poolConformance, poolSchema } from './pool-conformance.js';

const root = mkdtempSync(join(tmpdir(), 'expbuf-pool-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

poolConformance('embedded', (schema, place) => openPool(join(root, place), { schema }));

describe('openPool', () => {
  it('takes a path or a file: URL, and refuses unknown schemes', async () => {
    const dir = join(root, 'by-url');
    const a = await openPool(pathToFileURL(dir).href, { schema: poolSchema });
    await a.store([{ id: 'x', step: { state: [1, 2, 3], action: 1, reward: 1 } }]);
    await a.close();
    await using b = await openPool(dir, { schema: poolSchema });
    expect(await b.count()).toBe(1);
    await expect(openPool('redis://localhost/x', { schema: poolSchema })).rejects.toMatchObject({
      code: 'EXPBUF_INVALID_ARGUMENT',
      message: expect.stringContaining("'redis:'"),
    });
    await expect(openPool(join(root, 'any'), { schema: { x: 'any' } })).rejects.toMatchObject({
      code: 'EXPBUF_INVALID_ARGUMENT',
      message: expect.stringContaining("'x'"),
    });
  });

  it('every backend refuses metadata keys that start with $ or hold . or NUL (items must fit any backend)', async () => {
    await using pool = await openPool(join(root, 'keys'), { schema: poolSchema });
    await expect(pool.store([{ meta: { 'a.b': 1 }, step: { state: [1, 2, 3], action: 1, reward: 0 } }])).rejects.toMatchObject({
      code: 'EXPBUF_INVALID_ARGUMENT',
      message: expect.stringContaining('items[0].meta'),
    });
    await expect(pool.count({ meta: { $gt: 1 } })).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('query.meta') });
  });

  it('an embedded pool is open in one process at a time', async () => {
    const dir = join(root, 'locked');
    await using a = await openPool(dir, { schema: poolSchema });
    await expect(openPool(dir, { schema: poolSchema })).rejects.toMatchObject({
      code: 'EXPBUF_LOCKED',
      message: expect.stringContaining(`process ${process.pid}`),
    });
    expect(await a.count()).toBe(0);
  });
});

describe('PostgreSQL', () => {
  const url = inject('pgUrl');
  poolConformance('postgres', (schema, place) => openPool(`${url}?pool=${place.replace(/[^a-z0-9]/g, '_')}`, { schema }));

  it('an unreachable server is a clear error naming host and port, after a bounded wait', async () => {
    const t = Date.now();
    await expect(openPool('postgres://expbuf@127.0.0.1:9/postgres', { schema: poolSchema })).rejects.toMatchObject({
      code: 'EXPBUF_IO',
      message: expect.stringContaining('127.0.0.1:9'),
      cause: expect.any(Error),
    });
    expect(Date.now() - t).toBeLessThan(10_000);
  });
});

describe('MongoDB', () => {
  const url = inject('mongoUrl');
  const at = (place: string) => `${url}?pool=${place.replace(/[^a-z0-9]/g, '_')}`;
  poolConformance('mongo', (schema, place) => openPool(at(place), { schema }));
  let places = 0;
  const fresh = () => at(`mongo_x_${process.pid}_${places++}`);

  it('an unreachable server is a clear error naming host and port, after a bounded wait', async () => {
    const t = Date.now();
    await expect(openPool('mongodb://127.0.0.1:9/expbuf?pool=x', { schema: poolSchema })).rejects.toMatchObject({
      code: 'EXPBUF_IO',
      message: expect.stringContaining('127.0.0.1:9'),
      cause: expect.any(Error),
    });
    expect(Date.now() - t).toBeLessThan(10_000);
  });

  it('checks the pool and database names of the URL', async () => {
    for (const [bad, names] of [
      [`${url}?pool=Runs`, "'Runs'"],
      [`${url}?pool=a-b`, "'a-b'"],
      ['mongodb://127.0.0.1:9/a.b?pool=x', "'a.b'"],
      ['mongodb://', 'mongodb://host:port'],
    ]) {
      await expect(openPool(bad, { schema: poolSchema })).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining(names) });
    }
  });

  it('prints server, database, pool and fields, and how it samples once it knows', async () => {
    await using pool = await openPool(fresh(), { schema: poolSchema });
    const shown = inspect(pool);
    expect(shown).toContain(url.replace(/^mongodb:\/\//, '').split('/')[0]);
    expect(shown).toContain('expbuf_test');
    expect(shown).toContain('mongo_x_');
    expect(shown).toContain('float32[3]');
    await pool.store([episode(1, 1)]);
    await pool.sample(1);
    // FerretDB has no $sample: the pool must have found that out and drawn by seq.
    expect(inspect(pool)).toContain((await serverSamples()) ? "'$sample'" : "'random seqs'");
  });

  it('refuses metadata keys that MongoDB would read as operators or paths (as every backend does)', async () => {
    await using pool = await openPool(fresh(), { schema: poolSchema });
    const step = { state: [1, 2, 3], action: 1, reward: 0 };
    for (const key of ['$where', 'a.b', 'a\0b']) {
      await expect(pool.store([{ meta: { [key]: 1 }, step }])).rejects.toMatchObject({
        code: 'EXPBUF_INVALID_ARGUMENT',
        message: expect.stringContaining(JSON.stringify(key)),
      });
      await expect(pool.find({ meta: { [key]: 1 } })).rejects.toMatchObject({
        code: 'EXPBUF_INVALID_ARGUMENT',
        message: expect.stringContaining('query.meta'),
      });
    }
    expect(await pool.count()).toBe(0);
  });

  it('refuses an episode over the 16 MiB document limit before writing anything', async () => {
    await using pool = await openPool(fresh(), { schema: poolSchema });
    const n = 1_500_000; // 18 MB of steps
    const big = { id: 'big', steps: { state: new Float32Array(3 * n), action: new Int32Array(n), reward: new Float32Array(n) } };
    await expect(pool.store([episode(1, 1), big])).rejects.toMatchObject({ code: 'EXPBUF_BAD_VALUE', message: expect.stringContaining('items[1]') });
    expect(await pool.count()).toBe(0);
  });

  it('several writers at once: every item once, seqs 1..n with no gap, a follower reading along misses none', async () => {
    const place = fresh();
    const writers = await Promise.all([0, 1, 2].map(() => openPool(place, { schema: poolSchema })));
    await using reader = await openPool(place, { schema: poolSchema });
    // Stores of more than one insert command (100 items), as well as small ones.
    const per = [3, 120, 7, 150];
    let done = false;
    const followed: string[] = [];
    const follow = (async () => {
      let cursor = 0;
      for (;;) {
        const finished = done;
        for await (const page of reader.iterate({}, { after: cursor, pageSize: 64 })) {
          followed.push(...page.map((i) => i.id));
          cursor = page[page.length - 1].seq;
        }
        if (finished) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await Promise.all(
      writers.map(async (w, k) => {
        for (let c = 0; c < per.length; c++) await w.store(Array.from({ length: per[c] }, (_, j) => episode(1000 * k + 200 * c + j, 1)));
      }),
    );
    done = true;
    await follow;
    for (const w of writers) await w.close();
    const all = await reader.find();
    expect(all.length).toBe(writers.length * per.reduce((a, b) => a + b, 0));
    expect(all.map((i) => i.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    expect(followed.sort()).toEqual(all.map((i) => i.id).sort());
  });

  it('a deleted item keeps its seq: what is stored next comes after it', async () => {
    await using pool = await openPool(fresh(), { schema: poolSchema });
    await pool.store([episode(1, 1), episode(2, 1)]);
    const [, last] = await pool.find();
    expect(await pool.delete('ep-2')).toBe(true);
    await pool.store([episode(2, 1)]); // the same id again: allowed once deleted
    const again = await pool.find();
    expect(again.map((i) => i.id)).toEqual(['ep-1', 'ep-2']);
    expect(again[1].seq).toBeGreaterThan(last.seq);
  });

  /** Whether the test server runs $sample (FerretDB does not). */
  async function serverSamples(): Promise<boolean> {
    const { MongoClient } = await import('mongodb');
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    try {
      await client
        .db()
        .collection('expbuf_probe')
        .aggregate([{ $sample: { size: 1 } }])
        .toArray();
      return true;
    } catch {
      return false;
    } finally {
      await client.close();
    }
  }
});
