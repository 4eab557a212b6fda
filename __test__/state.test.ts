import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RandomReplacementBuffer, ReservoirBuffer, SequentialBuffer } from '../ts/index.js';
import { PYTHON } from './setup/global.js';
import { corruptCopy } from './support/corrupt.js';

const root = mkdtempSync(join(tmpdir(), 'expbuf-state-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `s${n++}`);

const schema = {
  obs: { dtype: 'float32', shape: [2, 3] },
  action: 'int16',
  flag: 'uint8',
  big: 'float64',
  note: 'any',
} as const;
const step = (i: number) => ({ obs: [i, i + 0.25, -i, 1e-3 * i, 2, 3], action: i - 500, flag: i % 256, big: i * 1e9 + 0.5, note: { i, s: `row ${i}` } });

const kinds = {
  sequential: () => new SequentialBuffer(schema, 16, { seed: 3 }),
  'random-replacement': () => new RandomReplacementBuffer(schema, 16, { seed: 3, replaceProbability: 0.7 }),
  reservoir: () => new ReservoirBuffer(schema, 16, { seed: 3 }),
};

describe.each(Object.entries(kinds))('%s: saveState / loadState', (_kind, make) => {
  it.each([0, 5, 16, 53])('round trip with %i rows added, then behaves as the never-saved twin', async (rows) => {
    const twin = make();
    for (let i = 0; i < rows; i++) twin.add(step(i));
    const dir = fresh();
    await twin.saveState(dir);
    const loaded = make();
    loaded.add(step(999)); // replaced whole by loadState
    await loaded.loadState(dir);
    expect(loaded.size).toBe(twin.size);
    expect(loaded.getData()).toEqual(twin.getData());
    for (const b of [twin, loaded]) for (let i = 100; i < 120; i++) b.add(step(i));
    expect(loaded.getData()).toEqual(twin.getData());
    expect(loaded.sample(10)).toEqual(twin.sample(10));
  });
});

describe('mismatches and damage leave the buffer unchanged', () => {
  it('another schema, another kind, a damaged file', async () => {
    const saved = kinds.reservoir();
    for (let i = 0; i < 30; i++) saved.add(step(i));
    const dir = fresh();
    await saved.saveState(dir);
    const other = new ReservoirBuffer({ ...schema, action: 'int32' }, 16);
    other.add({ ...step(1), action: 7 });
    await expect(other.loadState(dir)).rejects.toMatchObject({ code: 'EXPBUF_SCHEMA_MISMATCH', message: expect.stringContaining('action') });
    expect(other.getData().action).toEqual(Int32Array.from([7]));
    const seq = kinds.sequential();
    await expect(seq.loadState(dir)).rejects.toMatchObject({ code: 'EXPBUF_SCHEMA_MISMATCH', message: expect.stringContaining('reservoir') });
    await expect(seq.loadState(join(root, 'nowhere'))).rejects.toMatchObject({ code: 'EXPBUF_CORRUPT_STATE' });
  });

  it('a smaller maxSize keeps the newest rows (pamiq-core truncates on load)', async () => {
    const big = new SequentialBuffer(schema, 40);
    for (let i = 0; i < 40; i++) big.add(step(i));
    const dir = fresh();
    await big.saveState(dir);
    const small = new SequentialBuffer(schema, 5);
    await small.loadState(dir);
    expect([...small.getData().action]).toEqual([35, 36, 37, 38, 39].map((i) => i - 500));
  });

  it('fuzz: 2,000 random corruptions either load identical data or throw a code, never a partial load', async () => {
    const saved = kinds.sequential();
    for (let i = 0; i < 25; i++) saved.add(step(i));
    const good = fresh();
    await saved.saveState(good);
    const expected = saved.getData();
    const files = readdirSync(good);
    let rng = 12345;
    const rand = (k: number) => {
      rng = (Math.imul(rng, 1664525) + 1013904223) >>> 0;
      return rng % k;
    };
    const target = kinds.sequential();
    target.add(step(777));
    const outcomes = { loaded: 0, refused: 0 };
    for (let trial = 0; trial < 2000; trial++) {
      const dir = join(root, `fuzz-${trial}`);
      corruptCopy(good, files, dir, rand);
      const before = target.getData();
      try {
        await target.loadState(dir);
        outcomes.loaded++;
        // A harmless change (e.g. whitespace in the manifest) must give the saved rows exactly.
        expect(target.getData()).toEqual(expected);
        target.add(step(777)); // back to a state unlike the saved one
      } catch (e) {
        outcomes.refused++;
        expect((e as { code?: string }).code).toMatch(/^EXPBUF_(CORRUPT_STATE|SCHEMA_MISMATCH)$/);
        // Nothing partial: the target is exactly as before this load.
        expect(target.getData()).toEqual(before);
      }
      rmSync(dir, { recursive: true });
    }
    expect(outcomes.refused).toBeGreaterThan(1900);
  });
});

describe('numpy interop', () => {
  it('numpy loads every .npy column with the exact values, rows oldest first', async () => {
    const b = new SequentialBuffer(
      { obs: { dtype: 'float32', shape: [2, 3] }, action: 'int16', flag: 'uint8', big: 'float64', u: 'uint32', i8: 'int8', u16: 'uint16', i32: 'int32' },
      8,
    );
    for (let i = 0; i < 13; i++)
      b.add({ obs: [i, i + 0.1, -i, 1e-7, 3.5, -0], action: -i, flag: 255 - i, big: Math.PI * i, u: 4e9 + i, i8: -128 + i, u16: 65535 - i, i32: -2e9 + i });
    const dir = fresh();
    await b.saveState(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { fields: { name: string; file?: string }[] };
    const script = [
      'import json, sys, numpy as np',
      'out = {}',
      'for name, path in json.loads(sys.argv[1]).items():',
      '    a = np.load(path)',
      '    out[name] = [str(a.dtype), list(a.shape), a.tobytes().hex()]',
      'print(json.dumps(out))',
    ].join('\n');
    const paths = Object.fromEntries(manifest.fields.filter((f) => f.file).map((f) => [f.name, join(dir, f.file as string)]));
    const got = JSON.parse(execFileSync(PYTHON, ['-c', script, JSON.stringify(paths)], { encoding: 'utf8' })) as Record<string, [string, number[], string]>;
    const data = b.getData() as Record<string, ArrayBufferView & { length: number }>;
    const dtypes: Record<string, string> = {
      obs: 'float32',
      action: 'int16',
      flag: 'uint8',
      big: 'float64',
      u: 'uint32',
      i8: 'int8',
      u16: 'uint16',
      i32: 'int32',
    };
    for (const [name, col] of Object.entries(data)) {
      const [dtype, shape, hex] = got[name];
      expect(dtype).toBe(dtypes[name]);
      expect(shape).toEqual(name === 'obs' ? [8, 2, 3] : [8]);
      expect(hex).toBe(Buffer.from(col.buffer, col.byteOffset, col.byteLength).toString('hex'));
    }
  });
});
