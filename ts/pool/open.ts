import { fileURLToPath } from 'node:url';
import { invalid } from '../errors.js';
import { native } from '../native/binding.js';
import type { Schema } from '../schema.js';
import { EmbeddedPool } from './embedded.js';
import { MongoPool } from './mongo.js';
import { PostgresPool } from './postgres.js';
import type { Pool } from './pool.js';

export interface OpenPoolOptions<S extends Schema> {
  /** The fields of every step; a pool refuses items of other fields. */
  schema: S;
}

/**
 * Opens a pool: a path or `file:` URL opens the embedded pool in that directory (no
 * server); `postgres://user@host:port/db?pool=name` opens (creating) the PostgreSQL
 * pool `name` (default `expbuf`), which needs the `pg` package;
 * `mongodb://user@host:port/db?pool=name` (or `mongodb+srv:`) opens (creating) the
 * MongoDB pool `name` (default `expbuf`) in database `db` (default `expbuf`), which
 * needs the `mongodb` package.
 * @throws `EXPBUF_INVALID_ARGUMENT` for an unknown URL scheme or a backend this build lacks
 */
export async function openPool<S extends Schema>(url: string, options: OpenPoolOptions<S>): Promise<Pool<S>> {
  if (typeof url !== 'string' || url.length === 0) throw invalid('url: expected a path or a URL');
  if (options === undefined) throw invalid('options: expected { schema }');
  native.checkOptions(options, 'options', ['schema']);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return EmbeddedPool.open(url, options.schema);
  if (scheme === 'file') return EmbeddedPool.open(fileURLToPath(url), options.schema);
  if (scheme === 'postgres' || scheme === 'postgresql') return PostgresPool.open(url, options.schema);
  if (scheme === 'mongodb' || scheme === 'mongodb+srv') return MongoPool.open(url, options.schema);
  throw invalid(`url: unknown scheme '${scheme}:' (expected a path, file:, postgres: or mongodb:)`);
}
