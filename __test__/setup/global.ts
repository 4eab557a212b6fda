/**
 * vitest global setup:
 * - the numpy interop test needs Debian's python3-numpy for /usr/bin/python3: installed
 *   when missing (as root, as on CI), otherwise a failure names the command to run;
 * - the pool tests need a PostgreSQL server: EXPBUF_PG_URL when set (CI starts one),
 *   otherwise a throwaway server on loopback for this run;
 * - and a MongoDB server: EXPBUF_MONGO_URL (mongodb://host:port/db) when set (CI starts
 *   one), otherwise a throwaway FerretDB on SQLite on loopback (scripts/mongo-server.mjs:
 *   built with `go` the first time, then cached).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { installDebianPackages } from '../../scripts/debian.mjs';
import * as mongoServer from '../../scripts/mongo-server.mjs';
import * as pgServer from '../../scripts/pg-server.mjs';

export const PYTHON = process.env.EXPBUF_PYTHON ?? '/usr/bin/python3';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    /** mongodb://host:port/db, without a pool parameter. */
    mongoUrl: string;
  }
}

function hasNumpy(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ensureNumpy(): void {
  if (hasNumpy()) return;
  installDebianPackages(['python3-numpy'], `${PYTHON} has no numpy`, 'or set EXPBUF_PYTHON to a python with numpy');
  if (!hasNumpy()) throw new Error(`installing python3-numpy did not give ${PYTHON} numpy`);
}

export default async function setup(project: TestProject): Promise<() => void> {
  ensureNumpy();
  const stops: (() => void)[] = [];
  try {
    const pg = process.env.EXPBUF_PG_URL;
    if (pg) project.provide('pgUrl', pg);
    else {
      const dir = mkdtempSync(join(tmpdir(), 'expbuf-pg-'));
      stops.push(() => pgServer.stopServer(dir));
      project.provide('pgUrl', await pgServer.startServer(dir));
    }
    const mongo = process.env.EXPBUF_MONGO_URL;
    if (mongo) project.provide('mongoUrl', mongo);
    else {
      const dir = mkdtempSync(join(tmpdir(), 'expbuf-mongo-'));
      stops.push(() => mongoServer.stopServer(dir));
      project.provide('mongoUrl', `${await mongoServer.startServer(dir)}expbuf_test`);
    }
  } catch (e) {
    for (const stop of stops) stop();
    throw e;
  }
  return () => {
    for (const stop of stops) stop();
  };
}
