/**
 * The MongoDB pool, through the official `mongodb` driver:
 * `mongodb://user@host:port/db?pool=name` (db and pool name default to `expbuf`).
 *
 * Two collections per pool:
 * - `<name>_meta`: `{ _id: 'schema', fields, metaIndex }` (the schema, and how
 *   metadata is indexed) and `{ _id: 'seq', v }` (the seq counter, see `#insert`).
 * - `<name>_items`: one document per episode or record,
 *   `{ _id: seq, id, kind, meta, time, rows, steps, terminated?, finalState? }`:
 *   `kind` 0 episode, 1 record; `meta` a subdocument; `time` an episode's startTime or
 *   a record's timestamp; `steps` one BinData per typed field in the schema's order,
 *   holding the field's little-endian values (what `encodeItems` gives: byte-exact,
 *   compact, no arrays of numbers); `finalState` BinData. A deleted item leaves a
 *   tombstone `{ _id: seq, id: -seq, kind: 2 }` so that its seq is never given out again.
 *
 * Indexes, created on open: `_id` (the seq: unique by nature), `id` (unique), (kind,
 * time), rows, and the metadata: one wildcard index `meta.$**` where the server takes
 * it (tried once, when the pool is made, on a scratch collection), else one index per
 * metadata key, made when a store first uses the key.
 *
 * What it uses where the server has it: `$sample` for `sample`, and indexes. FerretDB
 * (the tests' server) lacks `$sample` (sample then draws random seqs), transactions
 * (none are needed: see `#insert`), time-series collections and nested arrays (none
 * are used), takes a wildcard index but then fails every insert (hence the trial),
 * and answers every query by scanning, so queries are kept to plain filters.
 */
import { randomUUID } from 'node:crypto';
import type { InspectOptions } from 'node:util';
import type { AnyBulkWriteOperation, Collection, Db, Filter, IndexDescription, MongoClient } from 'mongodb';
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
  itemBytes,
  poolLayout,
  serverFailure,
  storedItem,
  type EncodedItem,
  type IterateOptions,
  type ItemInput,
  type ItemSummary,
  type Meta,
  type PoolQuery,
  type StoredItem,
} from './items.js';
import type { Pool } from './pool.js';

type Driver = typeof import('mongodb');

/** How long `openPool` (and any later call) waits for a server before it gives up. */
const CONNECT_TIMEOUT_MS = INFO.defaults.connectTimeoutMs;
/** MongoDB's document limit (`maxBsonObjectSize`), the same on every server. */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;
/** How long a writer that met another writer's items waits for the counter to move before it steps on alone. */
const WAIT_FOR_WRITER_MS = 2000;
/**
 * Items per insert command: FerretDB inserts in batches of 100 and, after a failing
 * batch, still writes the next one (an ordered insert that goes on past its error),
 * so a command of at most 100 is ordered there too.
 */
const CHUNK = 100;
const EPISODE = 0;
const RECORD = 1;
const TOMBSTONE = 2;
/** Metadata keys that get an index of their own (FerretDB writes the key into SQL unescaped). */
const INDEXABLE_KEY = /^[A-Za-z0-9_-]{1,64}$/;

interface ItemDoc {
  _id: number;
  id: string | number;
  kind: number;
  meta?: Meta;
  time?: number;
  rows?: number;
  steps?: Uint8Array[];
  terminated?: boolean;
  finalState?: Uint8Array;
}

interface MetaDoc {
  _id: string;
  fields?: string;
  metaIndex?: 'wildcard' | 'per-key';
  v?: number;
}

/** A mongodb URL taken apart: what the driver gets, what messages name, and the pool. */
interface Target {
  driverUrl: string;
  /** host:port (comma-separated for several hosts), never the credentials. */
  server: string;
  db: string;
  name: string;
}

function parseUrl(url: string): Target {
  const m = /^(mongodb(?:\+srv)?):\/\/(?:([^@/?#]*)@)?([^/?#]+)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(url);
  if (m === null) throw invalid('url: expected mongodb://host:port/db?pool=name');
  const [, scheme, credentials, hosts, path, search] = m;
  const srv = scheme.toLowerCase() === 'mongodb+srv';
  const server = hosts
    .split(',')
    .map((h) => (srv || /:\d+$/.test(h) ? h : `${h}:27017`))
    .join(',');
  let db: string;
  try {
    db = decodeURIComponent(path ?? '') || 'expbuf';
  } catch (e) {
    throw invalid('url: the database name is not valid percent-encoding', e);
  }
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(db)) throw invalid(`url: database name '${db}' must be letters, digits, _ and - (at most 63)`);
  const params = new URLSearchParams(search ?? '');
  const name = checkPoolName(params.get('pool') ?? 'expbuf');
  params.delete('pool');
  const rest = params.toString();
  const driverUrl = `${scheme}://${credentials !== undefined ? `${credentials}@` : ''}${hosts}/${db}${rest ? `?${rest}` : ''}`;
  return { driverUrl, server, db, name };
}

/** A query as a MongoDB filter, built from values only (the same rules as `matches`). */
function filterOf(q: PoolQuery): Filter<ItemDoc> {
  let kinds = q.kind === undefined ? [EPISODE, RECORD] : [q.kind === 'episode' ? EPISODE : RECORD];
  if (q.startTime !== undefined || q.seqLen !== undefined) kinds = kinds.filter((k) => k === EPISODE);
  if (q.timestamp !== undefined) kinds = kinds.filter((k) => k === RECORD);
  // Tombstones (kind 2) never match.
  const f: Record<string, unknown> = { kind: kinds.length === 1 ? kinds[0] : { $in: kinds } };
  // Keys are checked (no `$`, `.` or NUL), so each names one field of `meta`.
  for (const [k, v] of Object.entries(q.meta ?? {})) f[`meta.${k}`] = v;
  const time: Record<string, number> = {};
  for (const r of [q.startTime, q.timestamp]) {
    if (r?.from !== undefined) time.$gte = Math.max(r.from, time.$gte ?? -Infinity);
    if (r?.to !== undefined) time.$lte = Math.min(r.to, time.$lte ?? Infinity);
  }
  if (Object.keys(time).length > 0) f.time = time;
  const rows: Record<string, number> = {};
  if (q.seqLen?.min !== undefined) rows.$gte = q.seqLen.min;
  if (q.seqLen?.max !== undefined) rows.$lte = q.seqLen.max;
  if (Object.keys(rows).length > 0) f.rows = rows;
  return f as Filter<ItemDoc>;
}

/** The index of the first item an ordered insert refused as a duplicate key; undefined for any other failure. */
function duplicateAt(e: unknown): number | undefined {
  const writeErrors = (e as { writeErrors?: unknown }).writeErrors;
  const list = (Array.isArray(writeErrors) ? writeErrors : writeErrors === undefined ? [] : [writeErrors]) as { index?: unknown; code?: unknown }[];
  const first = list.reduce<{ index?: unknown; code?: unknown } | undefined>(
    (a, w) => (a === undefined || Number(w.index) < Number(a.index) ? w : a),
    undefined,
  );
  if (first !== undefined) return first.code === 11000 && typeof first.index === 'number' ? first.index : undefined;
  // insertOne reports a duplicate as the error itself.
  return (e as { code?: unknown }).code === 11000 ? 0 : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Moves a uniformly chosen `n` of `arr` to its front (a partial Fisher-Yates) and returns them. */
function choose<T>(arr: T[], n: number): T[] {
  const k = Math.min(n, arr.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(Math.random() * (arr.length - i));
    [arr[i], arr[j]] = [arr[j], arr[i]];
  }
  return arr.slice(0, k);
}

export class MongoPool<S extends Schema> implements Pool<S> {
  readonly schema: S;
  readonly #driver: Driver;
  readonly #client: MongoClient;
  readonly #layout: Layout;
  readonly #target: Target;
  readonly #items: Collection<ItemDoc>;
  readonly #meta: Collection<MetaDoc>;
  readonly #metaIndex: 'wildcard' | 'per-key';
  /** Metadata keys known to have an index (per-key mode), or to be left without one. */
  readonly #indexedKeys: Set<string>;
  /** The highest seq this pool knows to be taken together with every seq below it. */
  #high = 0;
  /** Whether the server runs `$sample`: unknown until the first sample. */
  #serverSample: boolean | undefined;
  #closed = false;

  private constructor(
    driver: Driver,
    client: MongoClient,
    schema: S,
    layout: Layout,
    target: Target,
    db: Db,
    metaIndex: 'wildcard' | 'per-key',
    indexedKeys: Set<string>,
  ) {
    this.#driver = driver;
    this.#client = client;
    this.schema = schema;
    this.#layout = layout;
    this.#target = target;
    this.#items = db.collection<ItemDoc>(`${target.name}_items`);
    this.#meta = db.collection<MetaDoc>(`${target.name}_meta`);
    this.#metaIndex = metaIndex;
    this.#indexedKeys = indexedKeys;
  }

  /**
   * Connects, creates the collections and indexes if needed, and checks the schema.
   * @throws `EXPBUF_IO` naming host and port when no server answers within 5 s (the
   *   driver's error is the cause); `EXPBUF_INVALID_ARGUMENT` for a bad URL or pool
   *   name, or without the `mongodb` package; `EXPBUF_SCHEMA_MISMATCH`
   */
  static async open<S extends Schema>(url: string, schema: S): Promise<MongoPool<S>> {
    const layout = poolLayout(schema);
    const target = parseUrl(url);
    let driver: Driver;
    try {
      driver = await import('mongodb');
    } catch (e) {
      throw invalid("url: a mongodb: pool needs the 'mongodb' package (npm install mongodb)", e);
    }
    let client: MongoClient;
    try {
      // promoteBuffers: BinData comes back as Buffers, ready to copy into columns.
      client = new driver.MongoClient(target.driverUrl, {
        serverSelectionTimeoutMS: CONNECT_TIMEOUT_MS,
        connectTimeoutMS: CONNECT_TIMEOUT_MS,
        promoteBuffers: true,
        appName: 'expbuf',
      });
    } catch (e) {
      throw invalid(`url: ${(e as Error).message}`, e);
    }
    try {
      await client.connect();
    } catch (e) {
      await client.close().catch(() => undefined);
      throw new ExpbufError('EXPBUF_IO', `url: no MongoDB server answered at ${target.server} within ${CONNECT_TIMEOUT_MS} ms (${(e as Error).message})`, {
        cause: e,
      });
    }
    try {
      const db = client.db(target.db);
      const { metaIndex, indexedKeys } = await MongoPool.#prepare(driver, db, target, layout);
      return new MongoPool(driver, client, schema, layout, target, db, metaIndex, indexedKeys);
    } catch (e) {
      await client.close().catch(() => undefined);
      throw e instanceof ExpbufError
        ? e
        : new ExpbufError('EXPBUF_IO', `url: MongoDB at ${target.server} refused to create pool '${target.name}' in '${target.db}' (${(e as Error).message})`, {
            cause: e,
          });
    }
  }

  /** Makes the pool's documents and indexes (idempotent: openers may race) and checks the schema. */
  static async #prepare(driver: Driver, db: Db, target: Target, layout: Layout): Promise<{ metaIndex: 'wildcard' | 'per-key'; indexedKeys: Set<string> }> {
    const meta = db.collection<MetaDoc>(`${target.name}_meta`);
    const items = db.collection<ItemDoc>(`${target.name}_items`);
    const ignoreDuplicate = (e: unknown) => {
      if (duplicateAt(e) === undefined) throw e;
    };
    let saved = await meta.findOne({ _id: 'schema' });
    if (saved === null) {
      const metaIndex = (await MongoPool.#takesWildcard(driver, db, target.name)) ? 'wildcard' : 'per-key';
      // The counter first: a pool whose schema document exists has one.
      await meta.insertOne({ _id: 'seq', v: 0 }).catch(ignoreDuplicate);
      await meta.insertOne({ _id: 'schema', fields: JSON.stringify(layout.info), metaIndex }).catch(ignoreDuplicate);
      // Another opener may have won the race: its document is the pool's.
      saved = await meta.findOne({ _id: 'schema' });
    }
    let fields: unknown;
    try {
      fields = JSON.parse(saved?.fields ?? '');
    } catch (e) {
      throw new ExpbufError('EXPBUF_CORRUPT_STATE', `url: pool '${target.name}' at ${target.server}/${target.db} has no readable schema document`, {
        cause: e,
      });
    }
    checkPoolFields(fields, layout, `'${target.name}' at ${target.server}/${target.db}`);
    const metaIndex = saved?.metaIndex === 'wildcard' ? 'wildcard' : 'per-key';
    // One at a time: FerretDB panics on a createIndexes of two or more that exist already.
    const wanted: IndexDescription[] = [
      { key: { id: 1 }, name: 'id', unique: true },
      { key: { kind: 1, time: 1 }, name: 'kind_time' },
      { key: { rows: 1 }, name: 'rows' },
    ];
    if (metaIndex === 'wildcard') wanted.push({ key: { 'meta.$**': 1 }, name: 'meta' });
    for (const ix of wanted) await items.createIndexes([ix]);
    const indexedKeys = new Set<string>();
    if (metaIndex === 'per-key') {
      for (const ix of (await items.listIndexes().toArray()) as { key?: Record<string, unknown> }[]) {
        const keys = Object.keys(ix.key ?? {});
        if (keys.length === 1 && keys[0].startsWith('meta.')) indexedKeys.add(keys[0].slice(5));
      }
    }
    return { metaIndex, indexedKeys };
  }

  /**
   * Whether the server keeps working with a wildcard index on `meta`: tried on a scratch
   * collection, since FerretDB creates one and then refuses every insert.
   */
  static async #takesWildcard(driver: Driver, db: Db, name: string): Promise<boolean> {
    const scratch = db.collection(`${name}_probe_${randomUUID().slice(0, 8)}`);
    try {
      await scratch.createIndex({ 'meta.$**': 1 });
      await scratch.insertOne({ meta: { a: 1 } });
      return (await scratch.countDocuments({ 'meta.a': 1 })) === 1;
    } catch (e) {
      if (e instanceof driver.MongoServerError) return false; // the server refused: no wildcard
      throw e;
    } finally {
      await scratch.drop().catch(() => undefined);
    }
  }

  #check(): void {
    if (this.#closed) throw new ExpbufError('EXPBUF_CLOSED', 'pool: closed');
  }

  /** Runs a driver call; a failure rejects as `EXPBUF_IO` naming the server. */
  async #run<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw this.#io(e);
    }
  }

  /** An item's document, without its seq; refuses one over MongoDB's document limit. */
  #document(e: EncodedItem, i: number): Omit<ItemDoc, '_id'> {
    const s = e.summary;
    const typed = this.#layout.typed.length;
    const doc: Omit<ItemDoc, '_id'> = {
      id: s.id,
      kind: s.kind === 'episode' ? EPISODE : RECORD,
      meta: s.meta,
      time: s.time,
      rows: s.rows,
      steps: e.columns.slice(0, typed),
    };
    if (s.kind === 'episode') doc.terminated = s.terminated ?? true;
    if (s.final) doc.finalState = e.columns[typed];
    const size = this.#driver.BSON.calculateObjectSize({ _id: 0, ...doc });
    if (size > MAX_DOCUMENT_BYTES) {
      throw new ExpbufError(
        'EXPBUF_BAD_VALUE',
        `items[${i}]: ${size} bytes as a document, over MongoDB's limit of ${MAX_DOCUMENT_BYTES} (store a long episode in parts)`,
      );
    }
    return doc;
  }

  async store(items: ItemInput<S>[]): Promise<string[]> {
    this.#check();
    const encoded = encodeItems(this.#layout, items, now(), randomUUID);
    const docs = encoded.map((e, i) => this.#document(e, i));
    if (docs.length === 0) return [];
    await this.#indexMeta(encoded);
    await this.#insert(docs);
    return encoded.map((e) => e.summary.id);
  }

  /** Per-key mode: an index for each metadata key not seen before (an optimization: a key the server refuses stays unindexed). */
  async #indexMeta(encoded: EncodedItem[]): Promise<void> {
    if (this.#metaIndex === 'wildcard') return;
    const fresh = new Set<string>();
    for (const e of encoded) for (const k of Object.keys(e.summary.meta)) if (!this.#indexedKeys.has(k)) fresh.add(k);
    for (const k of fresh) {
      if (INDEXABLE_KEY.test(k)) {
        try {
          await this.#items.createIndex({ [`meta.${k}`]: 1 });
        } catch (e) {
          // A refusal (e.g. MongoDB's 64 indexes per collection) leaves the key unindexed.
          if (!(e instanceof this.#driver.MongoServerError)) throw this.#io(e);
        }
      }
      this.#indexedKeys.add(k);
    }
  }

  /** The seq counter: every seq up to it is taken. */
  async #counter(): Promise<number> {
    const doc = await this.#run(() => this.#meta.findOne({ _id: 'seq' }));
    this.#high = Math.max(this.#high, doc?.v ?? 0);
    return this.#high;
  }

  /**
   * Inserts `docs` under the next free seqs, in order, all or none.
   *
   * Why a follower reading `seq > cursor` never skips an item that commits later,
   * without transactions or atomic updates (FerretDB has neither: its `$inc` loses
   * updates), only with the unique `_id`:
   *
   * 1. A seq x is inserted only when every seq below x is taken (an item or a
   *    tombstone). The first item of a call goes to counter + 1 (or just above a seq
   *    this pool took), and the counter only ever holds a seq whose writer took it
   *    that way, raised after the insert is acknowledged; each further item of an
   *    ordered insert goes just above the previous one, which is committed before
   *    the next is written (chunks of `CHUNK`, each after the last). After a
   *    collision at x (x is then taken) a writer goes on at x + 1, or above the
   *    counter.
   * 2. Seqs are never freed: `delete` and a failed store leave tombstones.
   * 3. So the taken seqs are always 1..M with nothing missing, and a seq commits only
   *    after every lower one has: once a follower has seen seq s, nothing below s can
   *    appear any more. Stores of many items are no different: each item is one step.
   *
   * The counter is only a hint (kept with `$max`, which FerretDB may lose: then it lags
   * and writers step up through taken seqs). Writers raise it after every chunk, and a
   * writer that meets another's items waits for it to pass them (while it moves, and
   * up to 2 s after it last moved: its writer may have died) rather than stepping
   * through them one by one; that wait and the unique `id` are all the coordination.
   *
   * A collision at x means that x is taken, or that the item's id is. A tombstone at x
   * tells which: it can only collide on the seq. If it lands, the id was the duplicate.
   */
  async #insert(docs: Omit<ItemDoc, '_id'>[]): Promise<void> {
    /** Seqs this call holds: [seq, id] for its items, [seq, -seq] for tombstones it wrote. */
    const held: [number, string | number][] = [];
    /** Seqs the last insert may or may not have written (its reply was lost). */
    let unsure: [number, string | number][] = [];
    let next = (await this.#counter()) + 1;
    let patient = true;
    let i = 0;
    try {
      while (i < docs.length) {
        const batch = docs.slice(i, i + CHUNK).map((d, j): ItemDoc => ({ _id: next + j, ...d }));
        try {
          await this.#items.insertMany(batch, { ordered: true });
          for (const d of batch) held.push([d._id, d.id]);
          i += batch.length;
          next += batch.length;
          // Each chunk: a writer waiting behind this one sees it move on.
          await this.#raiseCounter(next - 1);
        } catch (e) {
          const n = duplicateAt(e);
          if (n === undefined) {
            unsure = batch.map((d) => [d._id, d.id]);
            throw this.#io(e);
          }
          for (const d of batch.slice(0, n)) held.push([d._id, d.id]);
          i += n;
          const x = next + n;
          if (await this.#tombstone(x)) {
            held.push([x, -x]);
            throw alreadyStored(String(docs[i].id), e);
          }
          await this.#raiseCounter(held.reduce((m, [s]) => Math.max(m, s), 0));
          ({ next, patient } = await this.#after(x, patient));
        }
      }
    } catch (e) {
      const left = await this.#undo([...held.filter(([, id]) => typeof id === 'string'), ...unsure]);
      if (left && e instanceof ExpbufError)
        throw new ExpbufError(e.code, `${e.message}; removing this call's items failed too, up to ${held.length + unsure.length} may remain`, {
          cause: e.cause,
        });
      throw e;
    } finally {
      await this.#raiseCounter(held.reduce((m, [s]) => Math.max(m, s), 0));
    }
  }

  /** Writes a tombstone at seq `x`; whether it landed (false: `x` was taken). */
  async #tombstone(x: number): Promise<boolean> {
    try {
      await this.#items.insertOne({ _id: x, id: -x, kind: TOMBSTONE });
      return true;
    } catch (e) {
      if (duplicateAt(e) === 0) return false;
      throw this.#io(e);
    }
  }

  /**
   * Where to go on after another writer took seq `x`: above the counter once it passes
   * `x` (its writer is done), else (after the wait, or at once when not `patient`) x + 1.
   */
  async #after(x: number, patient: boolean): Promise<{ next: number; patient: boolean }> {
    let seen = -1;
    let deadline = 0;
    for (let wait = 2; ; wait = Math.min(2 * wait, 50)) {
      const counter = await this.#counter();
      if (counter >= x) return { next: counter + 1, patient };
      // Writers raise the counter chunk by chunk: while it moves, someone is at work.
      if (counter !== seen) {
        seen = counter;
        deadline = Date.now() + (patient ? WAIT_FOR_WRITER_MS : 0);
      }
      if (Date.now() >= deadline) {
        this.#high = Math.max(this.#high, x);
        return { next: x + 1, patient: false };
      }
      await sleep(wait);
    }
  }

  async #raiseCounter(seq: number): Promise<void> {
    if (seq <= 0) return;
    this.#high = Math.max(this.#high, seq);
    // A hint only: a failure here costs the next writer some steps, never an item.
    await this.#meta.updateOne({ _id: 'seq' }, { $max: { v: seq } }).catch(() => undefined);
  }

  /** Turns this call's items into tombstones (never deleting: their seqs stay taken); whether any may remain. */
  async #undo(items: [number, string | number][]): Promise<boolean> {
    if (items.length === 0) return false;
    const ops: AnyBulkWriteOperation<ItemDoc>[] = items.map(([seq, id]) => ({
      replaceOne: { filter: { _id: seq, id }, replacement: { id: -seq, kind: TOMBSTONE } },
    }));
    try {
      await this.#items.bulkWrite(ops, { ordered: false });
      return false;
    } catch {
      return true;
    }
  }

  #decode(doc: ItemDoc): StoredItem<S> {
    const final = doc.finalState !== undefined;
    const summary: ItemSummary = {
      kind: doc.kind === EPISODE ? 'episode' : 'record',
      id: String(doc.id),
      meta: doc.meta ?? {},
      time: doc.time ?? 0,
      rows: doc.rows ?? 0,
      terminated: doc.terminated,
      final,
    };
    const bytes = Buffer.concat([...(doc.steps ?? []), ...(final ? [doc.finalState as Uint8Array] : [])]);
    if (bytes.length !== itemBytes(this.#layout, summary)) {
      throw new ExpbufError(
        'EXPBUF_CORRUPT_STATE',
        `pool: item '${summary.id}' (seq ${doc._id}) in '${this.#target.name}' at ${this.#target.server} ` +
          `holds ${bytes.length} bytes of steps, not the ${itemBytes(this.#layout, summary)} its fields take`,
      );
    }
    return storedItem<S>(this.#layout, summary, bytes, doc._id);
  }

  async find(query?: PoolQuery): Promise<StoredItem<S>[]> {
    const q = checkQuery(query);
    this.#check();
    const docs = await this.#run(() => this.#items.find(filterOf(q), { sort: { _id: 1 }, ...(q.limit !== undefined ? { limit: q.limit } : {}) }).toArray());
    return docs.map((d) => this.#decode(d));
  }

  async *iterate(query?: PoolQuery, options: IterateOptions = {}): AsyncIterable<StoredItem<S>[]> {
    const q = checkQuery(query);
    const { pageSize, after: start } = checkIterateOptions(options);
    this.#check();
    const filter = filterOf(q);
    let after = start;
    let left = q.limit ?? Infinity;
    while (left > 0) {
      const n = Math.min(pageSize, left);
      const docs = await this.#run(() => this.#items.find({ ...filter, _id: { $gt: after } }, { sort: { _id: 1 }, limit: n }).toArray());
      if (docs.length === 0) return;
      after = docs[docs.length - 1]._id;
      left -= docs.length;
      yield docs.map((d) => this.#decode(d));
      if (docs.length < n) return;
    }
  }

  async count(query?: PoolQuery): Promise<number> {
    const q = checkQuery(query);
    this.#check();
    return this.#run(() => this.#items.countDocuments(filterOf(q), q.limit !== undefined ? { limit: q.limit } : {}));
  }

  async sample(size: number, options?: { query?: PoolQuery }): Promise<StoredItem<S>[]> {
    const q = checkSample(size, options);
    this.#check();
    const filter = filterOf({ ...q, limit: undefined });
    if (this.#serverSample !== false) {
      let docs: ItemDoc[] | undefined;
      try {
        // $match first: MongoDB then draws by a random sort, never the same item twice.
        docs = await this.#items.aggregate<ItemDoc>([{ $match: filter }, { $sample: { size } }]).toArray();
        this.#serverSample = true;
      } catch (e) {
        if (!this.#noSample(e)) throw this.#io(e);
        this.#serverSample = false;
      }
      if (docs !== undefined && new Set(docs.map((d) => d._id)).size === docs.length) return docs.map((d) => this.#decode(d));
    }
    return (await this.#draw(filter, size)).map((d) => this.#decode(d));
  }

  /** Whether `e` says the server has no `$sample` (FerretDB: NotImplemented; old servers: unknown stage). */
  #noSample(e: unknown): boolean {
    const code = (e as { code?: unknown }).code;
    return e instanceof this.#driver.MongoServerError && (code === 238 || code === 40324);
  }

  /**
   * `size` distinct matching items, uniformly, without `$sample`: random seqs drawn
   * from the matching items' seq range, kept when they hold a matching item. Each round
   * draws a uniform set of untried seqs, so the items found are a uniform set of the
   * untried matching ones; a uniform part of them is kept. When matches are sparse in
   * their range, it draws from their seqs instead.
   */
  async #draw(filter: Filter<ItemDoc>, size: number): Promise<ItemDoc[]> {
    const n = await this.#run(() => this.#items.countDocuments(filter));
    if (n === 0) return [];
    if (size >= n) return choose(await this.#run(() => this.#items.find(filter).toArray()), n);
    // The range of matching seqs (FerretDB has no $min/$max accumulators).
    const end = async (dir: 1 | -1) =>
      (await this.#run(() => this.#items.find(filter, { sort: { _id: dir }, limit: 1, projection: { _id: 1 } }).toArray()))[0]?._id;
    const [lo, hi] = await Promise.all([end(1), end(-1)]);
    if (lo === undefined || hi === undefined) return [];
    const span = hi - lo + 1;
    if (span > 32 * n) {
      const seqs = (await this.#run(() => this.#items.find(filter, { projection: { _id: 1 } }).toArray())).map((d) => d._id);
      const picked = choose(seqs, size);
      return choose(await this.#run(() => this.#items.find({ ...filter, _id: { $in: picked } }).toArray()), size);
    }
    const tried = new Set<number>();
    const out: ItemDoc[] = [];
    while (out.length < size && tried.size < span) {
      const need = size - out.length;
      const m = Math.min(span - tried.size, Math.ceil((need * span * 1.5) / n) + 8);
      const seqs = drawUntried(lo, span, m, tried);
      const found = await this.#run(() => this.#items.find({ ...filter, _id: { $in: seqs } }).toArray());
      out.push(...choose(found, need));
    }
    return out;
  }

  async delete(id: string): Promise<boolean> {
    checkId(id);
    this.#check();
    const doc = await this.#run(() => this.#items.findOne({ id, kind: { $in: [EPISODE, RECORD] } }, { projection: { _id: 1 } }));
    if (doc === null) return false;
    // A tombstone keeps the seq taken (see #insert); its id is the negated seq, which no item has.
    const res = await this.#run(() => this.#items.replaceOne({ _id: doc._id, id }, { id: -doc._id, kind: TOMBSTONE }));
    return res.modifiedCount > 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** A server's failure as `EXPBUF_IO` naming the server (the driver's error is the cause). */
  #io(e: unknown): unknown {
    return serverFailure(e, `MongoDB at ${this.#target.server}`);
  }

  /** What printing shows: the server, database and pool, the fields; how it samples once known. */
  [custom](depth: number, options: InspectOptions): string {
    const sampling = this.#serverSample === undefined ? {} : { sampling: this.#serverSample ? '$sample' : 'random seqs' };
    return show(
      'MongoPool',
      {
        server: this.#target.server,
        db: this.#target.db,
        pool: this.#target.name,
        ...(this.#closed ? { closed: true } : {}),
        ...sampling,
        fields: this.#layout.summary,
      },
      depth,
      options,
    );
  }
}

/** `m` distinct seqs of lo..lo+span-1 not in `tried`, uniformly; adds them to `tried`. */
function drawUntried(lo: number, span: number, m: number, tried: Set<number>): number[] {
  const out: number[] = [];
  if (span - tried.size <= 4 * m) {
    const rest: number[] = [];
    for (let s = lo; s < lo + span; s++) if (!tried.has(s)) rest.push(s);
    out.push(...choose(rest, m));
  } else {
    while (out.length < m) {
      const s = lo + Math.floor(Math.random() * span);
      if (!tried.has(s)) {
        tried.add(s);
        out.push(s);
      }
    }
    return out;
  }
  for (const s of out) tried.add(s);
  return out;
}
