import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openPool } from '../ts/index.js';
import { poolConformance, poolSchema } from './pool-conformance.js';

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
    await expect(openPool('mongodb://localhost/x', { schema: poolSchema })).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining("'mongodb:'") });
    await expect(openPool(join(root, 'any'), { schema: { x: 'any' } })).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining("'x'") });
  });

  it('an embedded pool is open in one process at a time', async () => {
    const dir = join(root, 'locked');
    await using a = await openPool(dir, { schema: poolSchema });
    await expect(openPool(dir, { schema: poolSchema })).rejects.toMatchObject({ code: 'EXPBUF_LOCKED', message: expect.stringContaining(`process ${process.pid}`) });
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
