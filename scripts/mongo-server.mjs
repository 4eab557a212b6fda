#!/usr/bin/env node
/**
 * A throwaway MongoDB-wire-protocol server on loopback, for tests and CI.
 *
 *   node scripts/mongo-server.mjs start <dir> [--handler sqlite|postgresql] [--postgres-url URL]
 *                                             starts one and prints its mongodb:// URL
 *   node scripts/mongo-server.mjs stop <dir>  stops it and removes <dir>
 *   node scripts/mongo-server.mjs build       builds the server if needed and prints its path
 *                                             (the first build takes about a minute)
 *
 * No MongoDB server can be installed here, so this runs FerretDB v1 (embedded in
 * the small Go program in scripts/ferretdb/), which stores the documents in SQLite
 * files under <dir> or, with `--handler postgresql`, in a PostgreSQL server (for a
 * throwaway one, see scripts/pg-server.mjs). The program is built with `go` once and
 * cached (under $EXPBUF_CACHE_DIR, or $XDG_CACHE_HOME/expbuf, or ~/.cache/expbuf);
 * it is rebuilt only when scripts/ferretdb/{main.go,go.mod,go.sum} change.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'ferretdb');
const SRC_FILES = ['main.go', 'go.mod', 'go.sum'];
const BIN_NAME = 'expbuf-ferretdb';

function cacheDir() {
  if (process.env.EXPBUF_CACHE_DIR) return process.env.EXPBUF_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'expbuf');
}

function sourceHash() {
  const h = createHash('sha256');
  h.update(`${process.platform}-${process.arch}\n`);
  for (const f of SRC_FILES) {
    const body = readFileSync(join(SRC_DIR, f));
    h.update(`${f} ${body.length}\n`);
    h.update(body);
  }
  return h.digest('hex');
}

/** Runs a command, resolving to its output; rejects with the output on failure. */
function run(cmd, args, opts) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit code ${code}`}):\n${out}`));
    });
  });
}

/** Builds under way in this process, by binary path and source hash. */
const builds = new Map();

/**
 * Builds the server program if it is not cached yet; resolves to the binary's path.
 * Needs `go` (1.24 or newer) only when building.
 */
export function buildServer() {
  const key = `${join(cacheDir(), BIN_NAME)} ${sourceHash()}`;
  let build = builds.get(key);
  if (!build) {
    build = buildOnce();
    builds.set(key, build);
    build.catch(() => builds.delete(key));
  }
  return build;
}

async function buildOnce() {
  const dir = cacheDir();
  const bin = join(dir, BIN_NAME);
  const stamp = `${bin}.sha256`;
  const hash = sourceHash();
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return bin;

  const probe = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error?.code === 'ENOENT' ? '`go` is not on PATH' : `\`go version\` failed: ${probe.error?.message ?? probe.stderr}`;
    throw new Error(
      `${why}: Go 1.24 or newer is needed to build ${SRC_DIR} (FerretDB, the MongoDB-compatible server for the tests). Install Go, or put it on PATH.`,
    );
  }

  mkdirSync(dir, { recursive: true });
  // Build to a private name and rename, so parallel builds never see a partial binary.
  const tmp = `${bin}.${process.pid}.tmp`;
  try {
    // go.sum is committed: -mod=readonly keeps the build from changing go.mod/go.sum, and
    // -buildvcs=false keeps it from asking git about the enclosing checkout.
    await run('go', ['build', '-mod=readonly', '-buildvcs=false', '-o', tmp, '.'], { cwd: SRC_DIR, env: process.env });
    renameSync(tmp, bin);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new Error(`building the FerretDB server failed: ${err.message}`);
  }
  writeFileSync(`${stamp}.${process.pid}.tmp`, `${hash}\n`);
  renameSync(`${stamp}.${process.pid}.tmp`, stamp);
  return bin;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The end of the server's log, after the program's own error (a line `ferretdb: ...`) if any. */
function logTail(log, max = 4000) {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return '(no server log)';
  }
  if (!text.trim()) return '(server log is empty)';
  const tail = text.length > max ? `...${text.slice(-max)}` : text;
  const own = text.match(/^ferretdb: .*$/m);
  return own ? `${own[0]}\n--- end of the log:\n${tail}` : tail;
}

/** Whether `pid` is a live (not zombie) process; on Linux, also that it is our server. */
function isOurServer(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(BIN_NAME);
  } catch {
    return false; // gone meanwhile
  }
}

/**
 * Starts a server with its data in `dir` (created if missing); resolves to its URL,
 * `mongodb://127.0.0.1:PORT/`. With `handler: 'postgresql'`, `postgresUrl` names the
 * PostgreSQL server that holds the data.
 */
export async function startServer(dir, { handler = 'sqlite', postgresUrl, timeoutMs = 30_000 } = {}) {
  if (handler !== 'sqlite' && handler !== 'postgresql') throw new Error(`handler must be 'sqlite' or 'postgresql', not ${JSON.stringify(handler)}`);
  if (handler === 'postgresql' && !postgresUrl) throw new Error("handler 'postgresql' needs a postgresUrl (see scripts/pg-server.mjs)");
  const bin = await buildServer();

  dir = resolve(dir);
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, 'server.pid');
  if (existsSync(pidFile)) {
    const old = Number(readFileSync(pidFile, 'utf8'));
    if (old && isOurServer(old)) throw new Error(`a server is already running in ${dir} (pid ${old}): stop it first`);
  }
  const ready = join(dir, 'ready');
  const log = join(dir, 'server.log');
  rmSync(ready, { force: true });

  // The program gives up on its own (and says why in its log) a little before we do.
  const readyTimeout = Math.max(1000, timeoutMs - 5000);
  const args = ['-listen', '127.0.0.1:0', '-handler', handler, '-ready-file', ready, '-ready-timeout', `${readyTimeout}ms`];
  if (handler === 'sqlite') args.push('-sqlite-dir', join(dir, 'data'));
  else args.push('-postgresql-url', postgresUrl);

  const fd = openSync(log, 'a');
  let child;
  try {
    child = spawn(bin, args, { cwd: dir, detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let exited;
  child.once('exit', (code, signal) => (exited = signal ?? `exit code ${code}`));
  const spawnError = new Promise((_, reject) => child.once('error', reject));
  spawnError.catch(() => {});
  await Promise.race([new Promise((r) => child.once('spawn', r)), spawnError]);
  child.unref();
  writeFileSync(pidFile, `${child.pid}\n`);

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(ready)) {
      const addr = readFileSync(ready, 'utf8').trim();
      if (addr) return `mongodb://${addr}/`;
    }
    if (exited) throw new Error(`the FerretDB server in ${dir} stopped before it was ready (${exited}); its log:\n${logTail(log)}`);
    if (Date.now() > deadline) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      throw new Error(`the FerretDB server in ${dir} was not ready within ${timeoutMs} ms; its log:\n${logTail(log)}`);
    }
    await sleep(25);
  }
}

/** Stops the server in `dir` (SIGTERM, then SIGKILL after 10 s) and removes `dir`. */
export function stopServer(dir) {
  const pidFile = join(dir, 'server.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (pid && isOurServer(pid)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const deadline = Date.now() + 10_000;
      while (isOurServer(pid) && Date.now() < deadline) sleepSync(25);
      if (isOurServer(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
        const killDeadline = Date.now() + 5_000;
        while (isOurServer(pid) && Date.now() < killDeadline) sleepSync(25);
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [cmd, dir, ...rest] = process.argv.slice(2);
  const usage = () => {
    console.error(
      'usage: mongo-server.mjs start <dir> [--handler sqlite|postgresql] [--postgres-url URL]\n       mongo-server.mjs stop <dir>\n       mongo-server.mjs build',
    );
    process.exit(2);
  };
  if (cmd === 'start' && dir) {
    const opts = {};
    for (let i = 0; i < rest.length; i++) {
      const [flag, inline] = rest[i].split(/=(.*)/s, 2);
      const value = inline ?? rest[++i];
      if (value === undefined) usage();
      if (flag === '--handler') opts.handler = value;
      else if (flag === '--postgres-url') opts.postgresUrl = value;
      else usage();
    }
    try {
      console.log(await startServer(dir, opts));
    } catch (err) {
      console.error(err.message);
      process.exit(1);
    }
  } else if (cmd === 'stop' && dir && rest.length === 0) stopServer(dir);
  else if (cmd === 'build' && !dir) {
    try {
      console.log(await buildServer());
    } catch (err) {
      console.error(err.message);
      process.exit(1);
    }
  } else usage();
}
