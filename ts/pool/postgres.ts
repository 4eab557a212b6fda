/**
 * The PostgreSQL pool, for more than one machine: `postgres://user@host:port/db?pool=name`.
 *
 * Tables `<name>_meta` (the schema) and `<name>_items` (one row per item: storage
 * sequence, id, kind, meta as jsonb, time, rows, and every typed column's bytes
 * concatenated) are created on open, with indexes for the queries: (kind, time),
 * rows, and a GIN index on meta. A `store` call is one multi-row INSERT in a
 * transaction; `sample` draws in the database.
 */
import { randomUUID } from 'node:crypto';
import type { InspectOptions } from 'node:util';
import type { Pool as PgPool, PoolClient } from 'pg';
import { now } from '../clock.js';
import { ExpbufError, invalid } from '../errors.js';
import { custom, show } from '../inspect.js';
import { INFO } from '../native/binding.js';
import type { Layout, Schema } from '../schema.js';
import {
  alreadyStored,
  checkId,
  checkIterateOptions,
  checkPoolFields,
  checkPoolName,
  checkQuery,
  checkSample,
  encodeItems,
  poolLayout,
  serverFailure,
  storedItem,
  type IterateOptions,
  type ItemInput,
  type PoolQuery,
  type StoredItem,
} from './items.js';
import type { Pool } from './pool.js';

/** How long `openPool` waits for the server before it gives up. */
const CONNECT_TIMEOUT_MS = INFO.defaults.connectTimeoutMs;

interface Row {
  seq: string;
  id: string;
  kind: number;
  meta: Record<string, string | number>;
  time: number;
  rows: number;
  data: Buffer;
  terminated: boolean;
  final: boolean;
}

/** A query as SQL: the WHERE clause (the same rules as `matches`) and its parameters. */
function where(q: PoolQuery): { sql: string; params: unknown[] } {
  const conds: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.kind !== undefined) conds.push(`kind = ${p(q.kind === 'episode' ? 0 : 1)}`);
  if (q.startTime !== undefined || q.seqLen !== undefined) conds.push('kind = 0');
  if (q.timestamp !== undefined) conds.push('kind = 1');
  if (q.meta !== undefined) conds.push(`meta @> ${p(JSON.stringify(q.meta))}::jsonb`);
  for (const r of [q.startTime, q.timestamp]) {
    if (r?.from !== undefined) conds.push(`time >= ${p(r.from)}`);
    if (r?.to !== undefined) conds.push(`time <= ${p(r.to)}`);
  }
  if (q.seqLen?.min !== undefined) conds.push(`rows >= ${p(q.seqLen.min)}`);
  if (q.seqLen?.max !== undefined) conds.push(`rows <= ${p(q.seqLen.max)}`);
  return { sql: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

export class PostgresPool<S extends Schema> implements Pool<S> {
  readonly schema: S;
  readonly #pg: PgPool;
  readonly #layout: Layout;
  readonly #items: string;
  readonly #where: string;
  #closed = false;

  private constructor(pg: PgPool, schema: S, layout: Layout, name: string, where: string) {
    this.#pg = pg;
    this.schema = schema;
    this.#layout = layout;
    this.#items = `"${name}_items"`;
    this.#where = where;
  }

  /**
   * Connects, creates the tables if needed, and checks the schema.
   * @throws `EXPBUF_IO` naming host and port when the server does not answer within
   *   5 s (the driver's error is the cause); `EXPBUF_INVALID_ARGUMENT` for a bad pool
   *   name; `EXPBUF_SCHEMA_MISMATCH`
   */
  static async open<S extends Schema>(url: string, schema: S): Promise<PostgresPool<S>> {
    const layout = poolLayout(schema);
    const parsed = new URL(url);
    const name = checkPoolName(parsed.searchParams.get('pool') ?? 'expbuf');
    parsed.searchParams.delete('pool');
    let pgModule: typeof import('pg');
    try {
      pgModule = (await import('pg')).default as unknown as typeof import('pg');
    } catch (e) {
      throw invalid("url: a postgres: pool needs the 'pg' package (npm install pg)", e);
    }
    const pg = new pgModule.Pool({ connectionString: parsed.toString(), connectionTimeoutMillis: CONNECT_TIMEOUT_MS, max: 4 });
    pg.on('error', () => undefined); // idle-client errors surface on the next query
    let client: PoolClient;
    try {
      client = await pg.connect();
    } catch (e) {
      await pg.end().catch(() => undefined);
      throw new ExpbufError(
        'EXPBUF_IO',
        `url: no PostgreSQL server answered at ${parsed.hostname}:${parsed.port || 5432} within ${CONNECT_TIMEOUT_MS} ms (${(e as Error).message})`,
        { cause: e },
      );
    }
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [name]);
      await client.query(`CREATE TABLE IF NOT EXISTS "${name}_meta" (fields jsonb NOT NULL)`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS "${name}_items" (seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, kind smallint NOT NULL, ` +
          'meta jsonb NOT NULL, time double precision NOT NULL, rows integer NOT NULL, data bytea NOT NULL)',
      );
      // Episode ends (a pool made before they existed gets the columns; its episodes
      // count as terminated, without a final state).
      await client.query(`ALTER TABLE "${name}_items" ADD COLUMN IF NOT EXISTS terminated boolean NOT NULL DEFAULT true`);
      await client.query(`ALTER TABLE "${name}_items" ADD COLUMN IF NOT EXISTS final boolean NOT NULL DEFAULT false`);
      await client.query(`CREATE INDEX IF NOT EXISTS "${name}_items_kind_time" ON "${name}_items" (kind, time)`);
      await client.query(`CREATE INDEX IF NOT EXISTS "${name}_items_rows" ON "${name}_items" (rows)`);
      await client.query(`CREATE INDEX IF NOT EXISTS "${name}_items_meta" ON "${name}_items" USING gin (meta jsonb_path_ops)`);
      const saved = await client.query<{ fields: unknown }>(`SELECT fields FROM "${name}_meta"`);
      if (saved.rows.length === 0) {
        await client.query(`INSERT INTO "${name}_meta" (fields) VALUES ($1::jsonb)`, [JSON.stringify(layout.info)]);
      } else {
        checkPoolFields(saved.rows[0].fields, layout, `'${name}'`);
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      await pg.end();
      throw e instanceof ExpbufError
        ? e
        : new ExpbufError(
            'EXPBUF_IO',
            `url: PostgreSQL at ${parsed.hostname}:${parsed.port || 5432} refused to create pool '${name}' (${(e as Error).message})`,
            { cause: e },
          );
    }
    client.release();
    return new PostgresPool(pg, schema, layout, name, `${parsed.hostname}:${parsed.port || 5432}`);
  }

  /** A query whose failure rejects as `EXPBUF_IO`. */
  async #query<R extends object = Record<string, unknown>>(sql: string, params: unknown[]): Promise<{ rows: R[]; rowCount: number | null }> {
    try {
      return await this.#pg.query<R & import('pg').QueryResultRow>(sql, params);
    } catch (e) {
      throw this.#io(e);
    }
  }

  #check(): void {
    if (this.#closed) throw new ExpbufError('EXPBUF_CLOSED', 'pool: closed');
  }

  async store(items: ItemInput<S>[]): Promise<string[]> {
    this.#check();
    const encoded = encodeItems(this.#layout, items, now(), randomUUID);
    if (encoded.length === 0) return [];
    const cols = {
      id: encoded.map((e) => e.summary.id),
      kind: encoded.map((e) => (e.summary.kind === 'episode' ? 0 : 1)),
      meta: encoded.map((e) => JSON.stringify(e.summary.meta)),
      time: encoded.map((e) => e.summary.time),
      rows: encoded.map((e) => e.summary.rows),
      data: encoded.map((e) => Buffer.concat(e.columns)),
      terminated: encoded.map((e) => e.summary.terminated ?? true),
      final: encoded.map((e) => e.summary.final ?? false),
    };
    const client = await this.#pg.connect();
    try {
      // One transaction for the whole call: all rows or none. The lock makes writers
      // take turns, so `seq` order is commit order and a follower reading `seq > cursor`
      // never skips a row that commits later.
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.#items]);
      await client.query(
        `INSERT INTO ${this.#items} (id, kind, meta, time, rows, data, terminated, final)
         SELECT * FROM unnest($1::text[], $2::smallint[], $3::jsonb[], $4::float8[], $5::int[], $6::bytea[], $7::boolean[], $8::boolean[])`,
        [cols.id, cols.kind, cols.meta, cols.time, cols.rows, cols.data, cols.terminated, cols.final],
      );
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      if ((e as { code?: string }).code === '23505') {
        const id = /\(id\)=\((.*)\)/.exec((e as { detail?: string }).detail ?? '')?.[1] ?? '';
        throw alreadyStored(id, e);
      }
      throw this.#io(e);
    } finally {
      client.release();
    }
    return cols.id;
  }

  #decode(r: Row): StoredItem<S> {
    return storedItem<S>(
      this.#layout,
      { kind: r.kind === 0 ? 'episode' : 'record', id: r.id, meta: r.meta, time: r.time, rows: r.rows, terminated: r.terminated, final: r.final },
      r.data,
      Number(r.seq),
    );
  }

  async find(query?: PoolQuery): Promise<StoredItem<S>[]> {
    const q = checkQuery(query);
    this.#check();
    const w = where(q);
    const limit = q.limit !== undefined ? ` LIMIT ${q.limit}` : '';
    const res = await this.#query<Row>(
      `SELECT seq, id, kind, meta, time, rows, data, terminated, final FROM ${this.#items} ${w.sql} ORDER BY seq${limit}`,
      w.params,
    );
    return res.rows.map((r) => this.#decode(r));
  }

  async *iterate(query?: PoolQuery, options: IterateOptions = {}): AsyncIterable<StoredItem<S>[]> {
    const q = checkQuery(query);
    const checked = checkIterateOptions(options);
    const pageSize = checked.pageSize;
    let after = String(checked.after);
    this.#check();
    let left = q.limit ?? Infinity;
    while (left > 0) {
      const w = where({ ...q, limit: undefined });
      w.params.push(after);
      const cond = `${w.sql ? `${w.sql} AND` : 'WHERE'} seq > $${w.params.length}`;
      const n = Math.min(pageSize, left);
      const res = await this.#query<Row>(
        `SELECT seq, id, kind, meta, time, rows, data, terminated, final FROM ${this.#items} ${cond} ORDER BY seq LIMIT ${n}`,
        w.params,
      );
      if (res.rows.length === 0) return;
      after = res.rows[res.rows.length - 1].seq;
      left -= res.rows.length;
      yield res.rows.map((r) => this.#decode(r));
      if (res.rows.length < n) return;
    }
  }

  async count(query?: PoolQuery): Promise<number> {
    const q = checkQuery(query);
    this.#check();
    const w = where(q);
    const sub = q.limit !== undefined ? `(SELECT 1 FROM ${this.#items} ${w.sql} LIMIT ${q.limit}) s` : `${this.#items} ${w.sql}`;
    const res = await this.#query<{ n: string }>(`SELECT count(*) AS n FROM ${sub}`, w.params);
    return Number(res.rows[0].n);
  }

  async sample(size: number, options?: { query?: PoolQuery }): Promise<StoredItem<S>[]> {
    const q = checkSample(size, options);
    this.#check();
    const w = where({ ...q, limit: undefined });
    const res = await this.#query<Row>(
      `SELECT seq, id, kind, meta, time, rows, data, terminated, final FROM ${this.#items} ${w.sql} ORDER BY random() LIMIT ${size}`,
      w.params,
    );
    return res.rows.map((r) => this.#decode(r));
  }

  async delete(id: string): Promise<boolean> {
    checkId(id);
    this.#check();
    const res = await this.#query(`DELETE FROM ${this.#items} WHERE id = $1`, [id]);
    return (res.rowCount ?? 0) > 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pg.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** A server's failure as `EXPBUF_IO` naming the server (the driver's error is the cause). */
  #io(e: unknown): unknown {
    return serverFailure(e, `PostgreSQL at ${this.#where}`);
  }

  /** What printing shows: the server and the table, the fields. */
  [custom](depth: number, options: InspectOptions): string {
    return show(
      'PostgresPool',
      { server: this.#where, table: this.#items, ...(this.#closed ? { closed: true } : {}), fields: this.#layout.summary },
      depth,
      options,
    );
  }
}
