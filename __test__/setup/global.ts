/**
 * vitest global setup:
 * - the numpy interop test needs Debian's python3-numpy for /usr/bin/python3: installed
 *   when missing (as root, as on CI), otherwise a failure names the command to run;
 * - the pool tests need a PostgreSQL server: EXPBUF_PG_URL when set (CI starts one),
 *   otherwise a throwaway server on loopback for this run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startServer, stopServer } from '../../scripts/pg-server.mjs';

export const PYTHON = process.env.EXPBUF_PYTHON ?? '/usr/bin/python3';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
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
  if (process.getuid?.() !== 0) {
    throw new Error(`${PYTHON} has no numpy: run 'sudo apt-get install python3-numpy' (or set EXPBUF_PYTHON to a python with numpy)`);
  }
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-numpy'], { stdio: 'inherit' });
  if (!hasNumpy()) throw new Error(`installing python3-numpy did not give ${PYTHON} numpy`);
}

export default async function setup(project: TestProject): Promise<() => void> {
  ensureNumpy();
  const given = process.env.EXPBUF_PG_URL;
  if (given) {
    project.provide('pgUrl', given);
    return () => undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'expbuf-pg-'));
  project.provide('pgUrl', await startServer(dir));
  return () => stopServer(dir);
}
