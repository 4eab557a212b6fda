/**
 * The behaviour every pool backend must have; `poolConformance(name, open)` runs it
 * against one backend. `open(schema, place)` opens the pool at a named place (the same
 * place reopens the same pool).
 */
import { describe, expect, it } from 'vitest';
import type { Pool, Schema } from '../ts/index.js';

export const poolSchema = { state: { dtype: 'float32', shape: [3] }, action: 'int32', reward: 'float32' } as const;
export type PoolSchema = typeof poolSchema;
export type Opener = <S extends Schema>(schema: S, place: string) => Promise<Pool<S>>;

/** An episode of `n` steps whose values encode `k`. */
export function episode(k: number, n: number, meta: Record<string, string | number> = {}, startTime = 1000 + k) {
  return {
    id: `ep-${k}`,
    meta,
    startTime,
    steps: {
      state: Float32Array.from({ length: n * 3 }, (_, i) => k * 100 + i),
      action: Int32Array.from({ length: n }, (_, i) => k + i),
      reward: Float32Array.from({ length: n }, (_, i) => i / 2),
    },
  };
}

export function poolConformance(name: string, open: Opener): void {
  let places = 0;
  const fresh = () => `${name}-${process.pid}-${places++}`;

  describe(`${name} pool: conformance`, () => {
    it('stores episodes and records and finds them back exactly, oldest first', async () => {
      await using pool = await open(poolSchema, fresh());
      const ids = await pool.store([
        episode(1, 4, { vehicle: 'v1' }),
        { meta: { vehicle: 'v2', lap: 3 }, timestamp: 50, step: { state: [1, 2, 3], action: 7, reward: 0.5 } },
        episode(2, 1),
      ]);
      expect(ids[0]).toBe('ep-1');
      expect(typeof ids[1]).toBe('string');
      expect(ids[2]).toBe('ep-2');
      const all = await pool.find();
      expect(all.map((i) => i.id)).toEqual(ids);
      const ep = all[0];
      if (ep.kind !== 'episode') throw new Error('expected an episode');
      expect(ep.seqLen).toBe(4);
      expect(ep.startTime).toBe(1001);
      expect(ep.meta).toEqual({ vehicle: 'v1' });
      expect(ep.steps.state).toEqual(episode(1, 4).steps.state);
      expect(ep.steps.action).toEqual(episode(1, 4).steps.action);
      const rec = all[1];
      if (rec.kind !== 'record') throw new Error('expected a record');
      expect(rec.timestamp).toBe(50);
      expect(rec.meta).toEqual({ vehicle: 'v2', lap: 3 });
      expect([...rec.step.state]).toEqual([1, 2, 3]);
      expect([...rec.step.action]).toEqual([7]);
      expect(await pool.count()).toBe(3);
    });

    it('filters by kind, metadata, time ranges (inclusive), episode length and limit', async () => {
      await using pool = await open(poolSchema, fresh());
      await pool.store([
        episode(1, 2, { vehicle: 'v1', driver: 'd1' }, 100),
        episode(2, 5, { vehicle: 'v1', driver: 'd2' }, 200),
        episode(3, 9, { vehicle: 'v2', driver: 'd1' }, 300),
        { id: 'r1', meta: { vehicle: 'v1' }, timestamp: 150, step: { state: [0, 0, 0], action: 1, reward: 0 } },
        { id: 'r2', meta: { vehicle: 'v1' }, timestamp: 250, step: { state: [0, 0, 0], action: 2, reward: 0 } },
      ]);
      const ids = async (q: Parameters<Pool<PoolSchema>['find']>[0]) => (await pool.find(q)).map((i) => i.id);
      expect(await ids({ kind: 'record' })).toEqual(['r1', 'r2']);
      expect(await ids({ meta: { vehicle: 'v1' } })).toEqual(['ep-1', 'ep-2', 'r1', 'r2']);
      expect(await ids({ meta: { vehicle: 'v1', driver: 'd2' } })).toEqual(['ep-2']);
      expect(await ids({ meta: { vehicle: 'nope' } })).toEqual([]);
      expect(await ids({ startTime: { from: 200 } })).toEqual(['ep-2', 'ep-3']);
      expect(await ids({ startTime: { from: 100, to: 200 } })).toEqual(['ep-1', 'ep-2']);
      expect(await ids({ startTime: { to: 99.9 } })).toEqual([]);
      expect(await ids({ timestamp: { from: 150, to: 150 } })).toEqual(['r1']);
      expect(await ids({ seqLen: { min: 5 } })).toEqual(['ep-2', 'ep-3']);
      expect(await ids({ seqLen: { min: 2, max: 5 }, meta: { driver: 'd1' } })).toEqual(['ep-1']);
      expect(await ids({ limit: 2 })).toEqual(['ep-1', 'ep-2']);
      expect(await pool.count({ meta: { vehicle: 'v1' }, kind: 'episode' })).toBe(2);
    });

    it('iterates pages of matching items, oldest first, within the limit', async () => {
      await using pool = await open(poolSchema, fresh());
      await pool.store(Array.from({ length: 23 }, (_, k) => episode(k, 1 + (k % 3), { odd: k % 2 })));
      const pages: string[][] = [];
      for await (const page of pool.iterate({ meta: { odd: 1 } }, { pageSize: 5 })) pages.push(page.map((i) => i.id));
      expect(pages.map((p) => p.length)).toEqual([5, 5, 1]);
      expect(pages.flat()).toEqual(Array.from({ length: 11 }, (_, i) => `ep-${2 * i + 1}`));
      const seqs = (await pool.find()).map((i) => i.seq);
      expect(seqs.every((q, i) => i === 0 || q > seqs[i - 1])).toBe(true);
      const afterTen: string[] = [];
      for await (const page of pool.iterate({}, { after: seqs[9] })) afterTen.push(...page.map((i) => i.id));
      expect(afterTen).toEqual(Array.from({ length: 13 }, (_, i) => `ep-${i + 10}`));
      const limited: string[] = [];
      for await (const page of pool.iterate({ limit: 7 }, { pageSize: 3 })) limited.push(...page.map((i) => i.id));
      expect(limited).toEqual(Array.from({ length: 7 }, (_, i) => `ep-${i}`));
      await expect(async () => {
        for await (const _ of pool.iterate({}, { pageSize: 0 })) void _;
      }).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('pageSize') });
    });

    it('samples distinct matching items, uniformly', async () => {
      await using pool = await open(poolSchema, fresh());
      await pool.store(Array.from({ length: 10 }, (_, k) => episode(k, 1, { even: k % 2 })));
      const got = await pool.sample(4, { query: { meta: { even: 0 } } });
      expect(got.length).toBe(4);
      expect(new Set(got.map((i) => i.id)).size).toBe(4);
      expect(got.every((i) => i.meta.even === 0)).toBe(true);
      expect((await pool.sample(50)).length).toBe(10);
      expect(await pool.sample(3, { query: { meta: { even: 7 } } })).toEqual([]);
      const hits = new Map<string, number>();
      for (let r = 0; r < 400; r++) for (const i of await pool.sample(1)) hits.set(i.id, (hits.get(i.id) ?? 0) + 1);
      // 400 draws over 10 items: each expected 40 (sd ≈ 6); all seen, none wildly off.
      expect(hits.size).toBe(10);
      for (const c of hits.values()) expect(Math.abs(c - 40)).toBeLessThan(30);
    });

    it('deletes by id', async () => {
      await using pool = await open(poolSchema, fresh());
      await pool.store([episode(1, 2), episode(2, 2)]);
      expect(await pool.delete('ep-1')).toBe(true);
      expect(await pool.delete('ep-1')).toBe(false);
      expect((await pool.find()).map((i) => i.id)).toEqual(['ep-2']);
      expect(await pool.count()).toBe(1);
    });

    it('keeps what it stored across close and reopen', async () => {
      const place = fresh();
      const a = await open(poolSchema, place);
      await a.store([episode(1, 3), episode(2, 2)]);
      await a.delete('ep-2');
      await a.close();
      await using b = await open(poolSchema, place);
      const items = await b.find();
      expect(items.map((i) => i.id)).toEqual(['ep-1']);
      expect(items[0].kind === 'episode' && [...items[0].steps.action]).toEqual([1, 2, 3]);
    });

    it('bad input throws its code and stores nothing', async () => {
      const place = fresh();
      await using pool = await open(poolSchema, place);
      await pool.store([episode(1, 2)]);
      const bad: [unknown[], string, string][] = [
        [[episode(2, 2), { id: 'x', steps: { state: new Float32Array(3), action: [1] } }], 'EXPBUF_SCHEMA_MISMATCH', 'reward'],
        [[{ step: { state: [1, 2, 3], action: 1, reward: 0, extra: 1 } }], 'EXPBUF_SCHEMA_MISMATCH', 'extra'],
        [[episode(3, 2), episode(1, 2)], 'EXPBUF_INVALID_ARGUMENT', 'ep-1'],
        [[episode(4, 1), episode(4, 1)], 'EXPBUF_INVALID_ARGUMENT', 'ep-4'],
        [[{ steps: { state: [1, 2], action: [1], reward: [0] } }], 'EXPBUF_BAD_VALUE', 'state'],
        [[{ meta: { a: {} }, step: { state: [1, 2, 3], action: 1, reward: 0 } }], 'EXPBUF_BAD_VALUE', 'meta.a'],
        [[{ steps: {}, step: {} }], 'EXPBUF_BAD_VALUE', 'exactly one'],
      ];
      for (const [items, code, names] of bad) {
        await expect(pool.store(items as never)).rejects.toMatchObject({ code, message: expect.stringContaining(names) });
      }
      expect((await pool.find()).map((i) => i.id)).toEqual(['ep-1']);
      const queries: [unknown, string][] = [
        [{ vehicle: 'v1' }, 'query.vehicle'],
        [{ startTime: { from: 5, to: 1 } }, 'inverted'],
        [{ seqLen: { min: 1.5 } }, 'query.seqLen.min'],
        [{ timestamp: { since: 1 } }, 'query.timestamp.since'],
        [{ limit: 0 }, 'query.limit'],
        [{ kind: 'episodes' }, 'query.kind'],
      ];
      for (const [q, names] of queries) {
        await expect(pool.find(q as never)).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining(names) });
        await expect(pool.count(q as never)).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT' });
      }
      for (const size of [0, -1, 1.5, NaN]) {
        await expect(pool.sample(size)).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT', message: expect.stringContaining('size') });
      }
      await expect(open({ other: 'float64' }, place)).rejects.toMatchObject({ code: 'EXPBUF_SCHEMA_MISMATCH' });
    });

    it('every verb reports bad input by rejecting, never by throwing', async () => {
      await using pool = await open(poolSchema, fresh());
      const calls: [string, () => Promise<unknown>][] = [
        ['store', () => pool.store(5 as never)],
        ['find', () => pool.find('x' as never)],
        ['count', () => pool.count(7 as never)],
        ['sample', () => pool.sample(-1)],
        ['delete', () => pool.delete(3 as never)],
        [
          'iterate',
          async () => {
            for await (const _ of pool.iterate({}, { pageSize: 1e9 })) void _;
          },
        ],
      ];
      for (const [name, call] of calls) {
        let p: Promise<unknown> | undefined;
        expect(() => (p = call()), name).not.toThrow();
        await expect(p, name).rejects.toMatchObject({ code: 'EXPBUF_INVALID_ARGUMENT' });
      }
    });

    it('episodes keep their end: terminated or cut short, with the final state', async () => {
      const place = fresh();
      const a = await open(poolSchema, place);
      const cut = { ...episode(1, 3), terminated: false, finalState: [7, 8, 9] };
      const ended = { ...episode(2, 2), terminated: true, finalState: new Float32Array([1, 2, 3]) };
      const plain = episode(3, 2);
      await a.store([cut, ended, plain]);
      await a.close();
      await using b = await open(poolSchema, place);
      const [x, y, z] = await b.find();
      if (x.kind !== 'episode' || y.kind !== 'episode' || z.kind !== 'episode') throw new Error('expected episodes');
      expect([x.terminated, [...(x.finalState ?? [])]]).toEqual([false, [7, 8, 9]]);
      expect([y.terminated, [...(y.finalState ?? [])]]).toEqual([true, [1, 2, 3]]);
      // Stored without an end: terminated, no final state (as items stored before ends existed).
      expect([z.terminated, z.finalState]).toEqual([true, undefined]);
      expect([...x.steps.action]).toEqual([1, 2, 3]);
      const bad: [unknown, string, string][] = [
        [{ ...episode(4, 1), finalState: [1, 2] }, 'EXPBUF_BAD_VALUE', 'finalState'],
        [{ ...episode(5, 1), terminated: 'no' }, 'EXPBUF_BAD_VALUE', 'terminated'],
        [{ step: { state: [1, 2, 3], action: 1, reward: 0 }, terminated: false }, 'EXPBUF_BAD_VALUE', 'record'],
      ];
      for (const [item, code, names] of bad) await expect(b.store([item as never])).rejects.toMatchObject({ code, message: expect.stringContaining(names) });
      expect(await b.count()).toBe(3);
    });

    it('use after close throws EXPBUF_CLOSED', async () => {
      const pool = await open(poolSchema, fresh());
      await pool.close();
      await expect(pool.find()).rejects.toMatchObject({ code: 'EXPBUF_CLOSED' });
      await expect(pool.store([episode(1, 1)])).rejects.toMatchObject({ code: 'EXPBUF_CLOSED' });
      await pool.close(); // closing twice is fine
    });
  });
}
