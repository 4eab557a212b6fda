/**
 * The embedded pool: one directory, no server.
 *
 * - `pool.json`: the format version and the schema.
 * - `log.bin`: an append-only log. Each `store` or `delete` call is one entry
 *   (magic, payload length, CRC32, payload), written and fsynced before the call
 *   resolves, so an acknowledged item survives a crash. A torn last entry (the call in
 *   flight when the process died) fails its checksum and is cut off on the next open.
 * - `lock`: the pid of the process that has the pool open.
 *
 * The index (ids, metadata, times, lengths, file offsets) lives in memory, rebuilt by
 * one scan on open; steps are read from the log on demand.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { InspectOptions } from 'node:util';
import { crc32 } from 'node:zlib';
import { now } from '../clock.js';
import { ExpbufError, invalid, ioError } from '../errors.js';
import { custom, show } from '../inspect.js';
import { native } from '../native/binding.js';
import type { Layout, Schema } from '../schema.js';
import { writeFileDurably } from '../state.js';
import {
  alreadyStored,
  checkId,
  checkIterateOptions,
  checkPoolFields,
  checkQuery,
  checkSample,
  encodeItems,
  itemBytes,
  matches,
  poolLayout,
  storedItem,
  type IterateOptions,
  type ItemInput,
  type ItemSummary,
  type PoolQuery,
  type StoredItem,
} from './items.js';
import type { Pool } from './pool.js';

const FORMAT = 'expbuf-pool';
const VERSION = 1;
const MAGIC = 0x42505845; // "EXPB"
const FRAME = 12;

interface Located extends ItemSummary {
  /** File offset of the item's first column. */
  offset: number;
  seq: number;
}

type Entry = { op: 'store'; items: ItemSummary[] } | { op: 'delete'; ids: string[] };

export class EmbeddedPool<S extends Schema> implements Pool<S> {
  readonly schema: S;
  readonly #dir: string;
  readonly #layout: Layout;
  readonly #index = new Map<string, Located>();
  #log: FileHandle | undefined;
  #size = 0;
  /** The last storage sequence number given out (items are numbered in log order). */
  #seq = 0;
  /** Calls run one at a time, in call order. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, schema: S, layout: Layout) {
    this.#dir = dir;
    this.schema = schema;
    this.#layout = layout;
  }

  /**
   * Opens (creating if needed) the pool in directory `dir` for `schema`.
   * @throws `EXPBUF_SCHEMA_MISMATCH` when the pool was made for other fields;
   *   `EXPBUF_LOCKED` when another live process has it open; `EXPBUF_INVALID_ARGUMENT`
   *   when `dir` is a file; `EXPBUF_IO` when the file system fails
   */
  static async open<S extends Schema>(dir: string, schema: S): Promise<EmbeddedPool<S>> {
    const layout = poolLayout(schema);
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw invalid(`url: ${dir} is a file, not a pool directory`);
    native.makeDir(dir);
    const meta = join(dir, 'pool.json');
    if (existsSync(meta)) {
      let saved: { format?: string; version?: number; fields?: unknown };
      try {
        saved = JSON.parse(readFileSync(meta, 'utf8')) as typeof saved;
      } catch (e) {
        throw new ExpbufError('EXPBUF_CORRUPT_STATE', `${meta}: not JSON (${(e as Error).message})`, { cause: e });
      }
      if (saved.format !== FORMAT || saved.version !== VERSION)
        throw new ExpbufError('EXPBUF_CORRUPT_STATE', `${meta}: format ${saved.format} version ${saved.version}, not ${FORMAT} ${VERSION}`);
      checkPoolFields(saved.fields, layout, dir);
    } else {
      await writeFileDurably(meta, JSON.stringify({ format: FORMAT, version: VERSION, fields: layout.info }));
    }
    EmbeddedPool.#lock(dir);
    const pool = new EmbeddedPool(dir, schema, layout);
    try {
      await pool.#recover();
    } catch (e) {
      rmSync(join(dir, 'lock'), { force: true });
      throw isExpbuf(e) ? e : ioError(join(dir, 'log.bin'), 'read', e);
    }
    return pool;
  }

  static #lock(dir: string): void {
    const lock = join(dir, 'lock');
    for (;;) {
      try {
        const fd = openSync(lock, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(lock, 'create the lock', e);
        const pid = Number(readFileSync(lock, 'utf8'));
        if (Number.isInteger(pid) && pid > 0 && native.processAlive(pid)) {
          throw new ExpbufError('EXPBUF_LOCKED', `url: the pool at ${dir} is open in process ${pid}`);
        }
        rmSync(lock, { force: true }); // left by a process that died
      }
    }
  }

  /** Reads the log, rebuilding the index; cuts off a torn last entry. */
  async #recover(): Promise<void> {
    const path = join(this.#dir, 'log.bin');
    this.#log = await open(path, 'a+');
    const { size } = await this.#log.stat();
    const frame = Buffer.alloc(FRAME);
    let at = 0;
    while (at + FRAME <= size) {
      await this.#log.read(frame, 0, FRAME, at);
      const len = frame.readUInt32LE(4);
      if (frame.readUInt32LE(0) !== MAGIC || at + FRAME + len > size) break;
      const payload = Buffer.alloc(len);
      await this.#log.read(payload, 0, len, at + FRAME);
      if (crc32(payload) !== frame.readUInt32LE(8)) break;
      this.#apply(payload, at + FRAME);
      at += FRAME + len;
    }
    if (at < size) {
      await this.#log.truncate(at);
      await this.#log.datasync();
    }
    this.#size = at;
  }

  /** Applies one log entry (whose payload starts at file offset `base`) to the index. */
  #apply(payload: Buffer, base: number): void {
    const headerLen = payload.readUInt32LE(0);
    const entry = JSON.parse(payload.toString('utf8', 4, 4 + headerLen)) as Entry;
    if (entry.op === 'delete') {
      for (const id of entry.ids) this.#index.delete(id);
      return;
    }
    let offset = base + 4 + headerLen;
    for (const s of entry.items) {
      this.#index.set(s.id, { ...s, offset, seq: ++this.#seq });
      offset += itemBytes(this.#layout, s);
    }
  }

  /** Runs `fn` after every earlier call, refusing once closed; a file failure rejects as `EXPBUF_IO`. */
  #run<T>(fn: (log: FileHandle) => Promise<T>): Promise<T> {
    const next = this.#queue.then(async () => {
      if (this.#log === undefined) throw new ExpbufError('EXPBUF_CLOSED', 'pool: closed');
      try {
        return await fn(this.#log);
      } catch (e) {
        throw isExpbuf(e) ? e : ioError(join(this.#dir, 'log.bin'), 'access', e);
      }
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Appends one entry and fsyncs it; returns the file offset of its column bytes. */
  async #append(log: FileHandle, entry: Entry, columns: Uint8Array[]): Promise<number> {
    const header = Buffer.from(JSON.stringify(entry));
    const len = 4 + header.length + columns.reduce((a, c) => a + c.length, 0);
    const buf = Buffer.allocUnsafe(FRAME + len);
    buf.writeUInt32LE(MAGIC, 0);
    buf.writeUInt32LE(len, 4);
    buf.writeUInt32LE(header.length, FRAME);
    header.copy(buf, FRAME + 4);
    let at = FRAME + 4 + header.length;
    for (const c of columns) {
      buf.set(c, at);
      at += c.length;
    }
    buf.writeUInt32LE(crc32(buf.subarray(FRAME)), 8);
    const base = this.#size;
    try {
      // A write may write less than asked (a disk filling up): write the rest, so that a
      // full disk raises instead of leaving a torn entry acknowledged.
      for (let done = 0; done < buf.length; ) done += (await log.write(buf, done, buf.length - done, base + done)).bytesWritten;
      await log.datasync();
    } catch (e) {
      // Nothing of a failed entry stays: the log ends where it did.
      await log.truncate(base).catch(() => undefined);
      throw e;
    }
    this.#size += buf.length;
    return base + FRAME + 4 + header.length;
  }

  async store(items: ItemInput<S>[]): Promise<string[]> {
    const encoded = encodeItems(this.#layout, items, now(), randomUUID);
    return this.#run(async (log) => {
      for (const e of encoded) {
        if (this.#index.has(e.summary.id)) throw alreadyStored(e.summary.id);
      }
      if (encoded.length === 0) return [];
      // Columns item by item, field by field: the order #apply reads them back in.
      const columns = encoded.flatMap((e) => e.columns);
      let offset = await this.#append(log, { op: 'store', items: encoded.map((e) => e.summary) }, columns);
      for (const e of encoded) {
        this.#index.set(e.summary.id, { ...e.summary, offset, seq: ++this.#seq });
        offset += e.columns.reduce((a, c) => a + c.length, 0);
      }
      return encoded.map((e) => e.summary.id);
    });
  }

  #select(query: PoolQuery, after = 0): Located[] {
    const out: Located[] = [];
    for (const item of this.#index.values()) {
      if (item.seq <= after || !matches(item, query)) continue;
      out.push(item);
      if (query.limit !== undefined && out.length >= query.limit) break;
    }
    return out;
  }

  async #read(log: FileHandle, item: Located): Promise<StoredItem<S>> {
    const bytes = new Uint8Array(itemBytes(this.#layout, item));
    await log.read(bytes, 0, bytes.length, item.offset);
    return storedItem<S>(this.#layout, item, bytes, item.seq);
  }

  async find(query?: PoolQuery): Promise<StoredItem<S>[]> {
    const q = checkQuery(query);
    return this.#run(async (log) => {
      const out = [];
      for (const item of this.#select(q)) out.push(await this.#read(log, item));
      return out;
    });
  }

  async *iterate(query?: PoolQuery, options: IterateOptions = {}): AsyncIterable<StoredItem<S>[]> {
    const q = checkQuery(query);
    const { pageSize, after } = checkIterateOptions(options);
    const selected = await this.#run(async () => this.#select(q, after));
    for (let i = 0; i < selected.length; i += pageSize) {
      const page = selected.slice(i, i + pageSize);
      yield await this.#run(async (log) => {
        const out = [];
        // Deleted since the selection: skip.
        for (const item of page) if (this.#index.get(item.id) === item) out.push(await this.#read(log, item));
        return out;
      });
    }
  }

  async count(query?: PoolQuery): Promise<number> {
    const q = checkQuery(query);
    return this.#run(async () => this.#select(q).length);
  }

  async sample(size: number, options?: { query?: PoolQuery }): Promise<StoredItem<S>[]> {
    const q = checkSample(size, options);
    return this.#run(async (log) => {
      const pool = this.#select({ ...q, limit: undefined });
      // A partial Fisher-Yates: `size` distinct items, uniformly.
      const n = Math.min(size, pool.length);
      for (let i = 0; i < n; i++) {
        const j = i + Math.floor(Math.random() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j], pool[i]];
      }
      const out = [];
      for (const item of pool.slice(0, n)) out.push(await this.#read(log, item));
      return out;
    });
  }

  async delete(id: string): Promise<boolean> {
    checkId(id);
    return this.#run(async (log) => {
      if (!this.#index.has(id)) return false;
      await this.#append(log, { op: 'delete', ids: [id] }, []);
      this.#index.delete(id);
      return true;
    });
  }

  async close(): Promise<void> {
    await this.#queue;
    if (this.#log === undefined) return;
    const log = this.#log;
    this.#log = undefined;
    await log.close();
    rmSync(join(this.#dir, 'lock'), { force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What printing shows: where it is, how many items, the fields. */
  [custom](depth: number, options: InspectOptions): string {
    const open = this.#log !== undefined;
    return show('EmbeddedPool', { dir: this.#dir, ...(open ? { items: this.#index.size } : { closed: true }), fields: this.#layout.summary }, depth, options);
  }
}

function isExpbuf(e: unknown): boolean {
  return e instanceof ExpbufError;
}
