/**
 * vitest global setup: the numpy interop test needs Debian's python3-numpy for
 * /usr/bin/python3. Installs it when missing (as root, as on CI); otherwise fails with
 * the command to run.
 */
import { execFileSync } from 'node:child_process';

export const PYTHON = process.env.EXPBUF_PYTHON ?? '/usr/bin/python3';

function hasNumpy(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default function setup(): void {
  if (hasNumpy()) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${PYTHON} has no numpy: run 'sudo apt-get install python3-numpy' (or set EXPBUF_PYTHON to a python with numpy)`);
  }
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-numpy'], { stdio: 'inherit' });
  if (!hasNumpy()) throw new Error(`installing python3-numpy did not give ${PYTHON} numpy`);
}
