/**
 * The PostgreSQL pool, for more than one machine: `postgres://user@host:port/db?pool=name`.
 *
 * Tables `<name>_meta` (the schema) and `<name>_items` (one row per item: storage
 * sequence, id, kind, meta as jsonb, time, rows, and every typed column's bytes
 * concatenated) are created on open, with indexes for the queries: (kind, time),
 * rows, and a GIN index on meta. A `store` call is one multi-row INSERT in a
 * transaction; `sample` draws in the database.
 */
import type { Pool as PgPool, PoolClient } from 'pg';
import { ExpbufError } from '../errors.js';
import type { Layout, Schema } from '../schema.js';
import { now } from '../clock.js';
import { randomUUID } from 'node:crypto';
import { checkAfter, checkPageSize, checkQuery, encodeItems, poolLayout, storedItem, type IterateOptions, type ItemInput, type PoolQuery, type StoredItem } from './items.js';
import type { Pool } from './pool.js';

/** How long `openPool` waits for the server before it gives up. */
const CONNECT_TIMEOUT_MS = 5000;

interface Row {
  seq: string;
  id: string;
  kind: number;
  meta: Record<string, string | number>;
  time: number;
  rows: number;
  data: Buffer;
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
  #closed = false;

  private constructor(pg: PgPool, schema: S, layout: Layout, name: string) {
    this.#pg = pg;
    this.schema = schema;
    this.#layout = layout;
    this.#items = `"${name}_items"`;
  }

  /**
   * Connects, creates the tables if needed, and checks the schema.
   * @throws `EXPBUF_INVALID_ARGUMENT` naming host and port when the server does not
   *   answer within 5 s, or for a bad pool name; `EXPBUF_SCHEMA_MISMATCH`
   */
  static async open<S extends Schema>(url: string, schema: S): Promise<PostgresPool<S>> {
    const layout = poolLayout(schema);
    const parsed = new URL(url);
    const name = parsed.searchParams.get('pool') ?? 'expbuf';
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(name)) {
      throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', `url: pool name '${name}' must be lowercase letters, digits and _ (at most 41)`);
    }
    parsed.searchParams.delete('pool');
    let pgModule: typeof import('pg');
    try {
      pgModule = (await import('pg')).default as unknown as typeof import('pg');
    } catch (e) {
      throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', "url: a postgres: pool needs the 'pg' package (npm install pg)", { cause: e });
    }
    const pg = new pgModule.Pool({ connectionString: parsed.toString(), connectionTimeoutMillis: CONNECT_TIMEOUT_MS, max: 4 });
    pg.on('error', () => undefined); // idle-client errors surface on the next query
    let client: PoolClient;
    try {
      client = await pg.connect();
    } catch (e) {
      await pg.end().catch(() => undefined);
      throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', `url: no PostgreSQL server answered at ${parsed.hostname}:${parsed.port || 5432} within ${CONNECT_TIMEOUT_MS} ms (${(e as Error).message})`, { cause: e });
    }
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [name]);
      await client.query(`CREATE TABLE IF NOT EXISTS "${name}_meta" (fields jsonb NOT NULL)`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS "${name}_items" (seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, kind smallint NOT NULL, meta jsonb NOT NULL, time double precision NOT NULL, rows integer NOT NULL, data bytea NOT NULL)`,
      );
      await client.query(`CREATE INDEX IF NOT EXISTS "${name}_items_kind_time" ON "${name}_items" (kind, time)`);
      await client.query(`CREATE INDEX IF NOT EXISTS "${name}_items_rows" ON "${name}_items" (rows)`);
      await client.query(`CREATE INDEX IF NOT EXISTS "${name}_items_meta" ON "${name}_items" USING gin (meta jsonb_path_ops)`);
      const saved = await client.query<{ fields: unknown }>(`SELECT fields FROM "${name}_meta"`);
      if (saved.rows.length === 0) {
        await client.query(`INSERT INTO "${name}_meta" (fields) VALUES ($1::jsonb)`, [JSON.stringify(layout.decls)]);
      } else if (JSON.stringify(saved.rows[0].fields) !== JSON.stringify(layout.decls)) {
        throw new ExpbufError('EXPBUF_SCHEMA_MISMATCH', `schema: pool '${name}' holds ${JSON.stringify(saved.rows[0].fields)}, not ${JSON.stringify(layout.decls)}`);
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      await pg.end();
      throw e;
    }
    client.release();
    return new PostgresPool(pg, schema, layout, name);
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
    };
    const client = await this.#pg.connect();
    try {
      // One transaction for the whole call: all rows or none. The lock makes writers
      // take turns, so `seq` order is commit order and a follower reading `seq > cursor`
      // never skips a row that commits later.
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.#items]);
      await client.query(
        `INSERT INTO ${this.#items} (id, kind, meta, time, rows, data)
         SELECT * FROM unnest($1::text[], $2::smallint[], $3::jsonb[], $4::float8[], $5::int[], $6::bytea[])`,
        [cols.id, cols.kind, cols.meta, cols.time, cols.rows, cols.data],
      );
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      if ((e as { code?: string }).code === '23505') {
        const id = /\(id\)=\((.*)\)/.exec((e as { detail?: string }).detail ?? '')?.[1] ?? '';
        throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', `items: id '${id}' is already stored`, { cause: e });
      }
      throw e;
    } finally {
      client.release();
    }
    return cols.id;
  }

  #decode(r: Row): StoredItem<S> {
    return storedItem<S>(this.#layout, { kind: r.kind === 0 ? 'episode' : 'record', id: r.id, meta: r.meta, time: r.time, rows: r.rows }, r.data, Number(r.seq));
  }

  async find(query?: PoolQuery): Promise<StoredItem<S>[]> {
    const q = checkQuery(query);
    this.#check();
    const w = where(q);
    const limit = q.limit !== undefined ? ` LIMIT ${q.limit}` : '';
    const res = await this.#pg.query<Row>(`SELECT seq, id, kind, meta, time, rows, data FROM ${this.#items} ${w.sql} ORDER BY seq${limit}`, w.params);
    return res.rows.map((r) => this.#decode(r));
  }

  async *iterate(query?: PoolQuery, options: IterateOptions = {}): AsyncIterable<StoredItem<S>[]> {
    const q = checkQuery(query);
    const pageSize = checkPageSize(options.pageSize);
    let after = String(checkAfter(options.after));
    this.#check();
    let left = q.limit ?? Infinity;
    while (left > 0) {
      const w = where({ ...q, limit: undefined });
      w.params.push(after);
      const cond = `${w.sql ? `${w.sql} AND` : 'WHERE'} seq > $${w.params.length}`;
      const n = Math.min(pageSize, left);
      const res = await this.#pg.query<Row>(`SELECT seq, id, kind, meta, time, rows, data FROM ${this.#items} ${cond} ORDER BY seq LIMIT ${n}`, w.params);
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
    const res = await this.#pg.query<{ n: string }>(`SELECT count(*) AS n FROM ${sub}`, w.params);
    return Number(res.rows[0].n);
  }

  async sample(size: number, options: { query?: PoolQuery } = {}): Promise<StoredItem<S>[]> {
    if (!(Number.isInteger(size) && size >= 1)) throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', `size: ${size} is not a positive integer`);
    const q = checkQuery(options.query);
    this.#check();
    const w = where({ ...q, limit: undefined });
    const res = await this.#pg.query<Row>(`SELECT seq, id, kind, meta, time, rows, data FROM ${this.#items} ${w.sql} ORDER BY random() LIMIT ${size}`, w.params);
    return res.rows.map((r) => this.#decode(r));
  }

  async delete(id: string): Promise<boolean> {
    if (typeof id !== 'string') throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', 'id: expected a string');
    this.#check();
    const res = await this.#pg.query(`DELETE FROM ${this.#items} WHERE id = $1`, [id]);
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
}
