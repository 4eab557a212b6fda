#!/usr/bin/env node
/**
 * A throwaway PostgreSQL server on loopback, for tests and CI.
 *
 *   node scripts/pg-server.mjs start <dir>   starts one and prints its URL
 *   node scripts/pg-server.mjs stop <dir>    stops it and removes <dir>
 *
 * Installs Debian's postgresql when no server binaries are found (as root). The
 * server runs as the `postgres` user when started by root (postgres refuses root).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installDebianPackages } from './debian.mjs';

function binDir() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : undefined;
}

/** The server binaries, installing Debian's package if needed. */
export function ensurePostgres() {
  let bin = binDir();
  if (bin) return bin;
  installDebianPackages(['postgresql'], 'no PostgreSQL server found', 'or set EXPBUF_PG_URL to a server');
  bin = binDir();
  if (!bin) throw new Error('installing postgresql gave no server binaries under /usr/lib/postgresql');
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Runs a server binary, as `postgres` when we are root. */
function pg(bin, tool, args) {
  const cmd = join(bin, tool);
  if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' });
  else execFileSync(cmd, args, { stdio: 'pipe' });
}

/** Starts a server with its data in `dir`; resolves to its URL. */
export async function startServer(dir) {
  const bin = ensurePostgres();
  mkdirSync(dir, { recursive: true });
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  pg(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', 'expbuf', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  pg(bin, 'pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
  const url = `postgres://expbuf@127.0.0.1:${port}/postgres`;
  return url;
}

/** Stops the server in `dir` and removes `dir`. */
export function stopServer(dir) {
  const bin = binDir();
  if (bin && existsSync(join(dir, 'data'))) {
    try {
      pg(bin, 'pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
    } catch {
      // already stopped
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [cmd, dir] = process.argv.slice(2);
  if (cmd === 'start' && dir) console.log(await startServer(dir));
  else if (cmd === 'stop' && dir) stopServer(dir);
  else {
    console.error('usage: pg-server.mjs start|stop <dir>');
    process.exit(2);
  }
}
