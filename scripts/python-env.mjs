#!/usr/bin/env node
/**
 * A cached Python virtual environment for the tests that compare us with Python
 * libraries (Gymnasium's CartPole, numpy, pyarrow, duckdb), and, with its own pins, for
 * the cross builds' zig and cargo-zigbuild wheels (scripts/cross.mjs).
 *
 *   node scripts/python-env.mjs ensure   creates it if needed; prints its python's path
 *   node scripts/python-env.mjs path     prints where it is (or would be), creates nothing
 *
 *   import { ensurePython, PINNED_PACKAGES } from './scripts/python-env.mjs';
 *   const python = await ensurePython();   // path of the venv's python
 *
 * Where: `$EXPBUF_VENV` when set, else `$XDG_CACHE_HOME/expbuf/venv-<hash>` (`~/.cache`
 * when XDG_CACHE_HOME is unset), the hash being of the pinned package list, so changing
 * a pin gives a new venv instead of patching an old one.
 *
 * Why it is cheap the second time: after a successful `pip install` (and an import
 * check) a marker file holding the pin list is written into the venv; a later call
 * that finds the marker with the same pins and the venv's python in place runs no
 * process at all.
 *
 * Why concurrent calls are safe: building happens while holding a lock directory
 * (`<venv>.lock`, made with mkdir, which is atomic); other callers wait for it and
 * then find the marker. A lock left by a process that died (its pid no longer exists
 * on this host) is taken over. A venv without a matching marker (a build that was
 * interrupted, or other pins under `$EXPBUF_VENV`) is removed and built again; a
 * non-empty directory that this script did not make is refused, never deleted.
 *
 * The venv's base interpreter is `$EXPBUF_BASE_PYTHON` when set, else Debian's
 * /usr/bin/python3 (whose python3-venv package we can install), else `python3` on
 * PATH. When `python3 -m venv` fails because Debian's venv module (or its bundled pip
 * wheel) is missing, we install `python3-venv` with apt-get if we are root, and
 * otherwise fail with a message naming that command.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The packages, with exact pins, that the venv holds: the six the tests use (wheels
 * exist for cp311 manylinux x86_64) and, pinned too so that every build resolves to
 * the same set, their dependencies.
 */
export const PINNED_PACKAGES = Object.freeze([
  'gymnasium==1.4.0',
  'numpy==2.4.6',
  'pyarrow==26.0.1',
  'duckdb==2.0.1',
  'pandas==3.1.1',
  'dask==2026.8.0',
  // gymnasium 1.4.0's dependencies
  'cloudpickle==3.1.3',
  'typing_extensions==4.16.0',
  'farama-notifications==0.0.6',
  // pandas 3.1.1's and dask 2026.8.0's (with its dataframe extra) dependencies
  'python-dateutil==4.0.0',
  'tzdata==2026.6',
  'click==8.5.1',
  'fsspec==2026.9.0',
  'importlib_metadata==10.2.0',
  'zipp==4.1.2',
  'lazy-importer==0.1.0',
  'locket==1.0.0',
  'packaging==26.4',
  'partd==1.4.2',
  'PyYAML==6.0.4',
  'toolz==1.2.0',
]);

const MARKER = '.expbuf-venv.json';
/** Present while a build is under way (or was interrupted). */
const BUILDING = '.expbuf-venv-building';
/** How long a caller waits for another process's build before giving up. */
const LOCK_WAIT_MS = 30 * 60 * 1000;
/** A lock directory with no owner file is taken as abandoned after this long. */
const OWNERLESS_LOCK_MS = 2 * 60 * 1000;

/** Normalized pin list: the order of the caller's list does not matter. */
function normalize(packages) {
  if (!Array.isArray(packages) || packages.some((p) => typeof p !== 'string' || !p.trim())) {
    throw new TypeError('packages must be an array of non-empty requirement strings');
  }
  return [...new Set(packages.map((p) => p.trim()))].sort();
}

function hashOf(pins) {
  return createHash('sha256').update(pins.join('\n')).digest('hex').slice(0, 16);
}

/** The venv's directory for these packages. */
export function venvDir(packages = PINNED_PACKAGES) {
  if (process.env.EXPBUF_VENV) return process.env.EXPBUF_VENV;
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'expbuf', `venv-${hashOf(normalize(packages))}`);
}

function venvPython(dir) {
  return process.platform === 'win32' ? join(dir, 'Scripts', 'python.exe') : join(dir, 'bin', 'python');
}

/** True when `dir` holds a finished venv for exactly `pins`. */
function isReady(dir, pins) {
  try {
    const marker = JSON.parse(readFileSync(join(dir, MARKER), 'utf8'));
    if (JSON.stringify(marker.packages) !== JSON.stringify(pins)) return false;
    accessSync(venvPython(dir), constants.X_OK); // follows the symlink to the base python
    return true;
  } catch {
    return false;
  }
}

function baseInterpreter() {
  if (process.env.EXPBUF_BASE_PYTHON) return process.env.EXPBUF_BASE_PYTHON;
  if (process.platform !== 'win32' && existsSync('/usr/bin/python3')) return '/usr/bin/python3';
  return 'python3';
}

/** Runs a command; resolves to its combined output, rejects with its tail on failure. */
function run(cmd, args, options = {}, onSpawn = undefined) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    if (onSpawn && child.pid !== undefined) onSpawn(child.pid);
    let out = '';
    const keep = (chunk) => {
      out += chunk;
      if (out.length > 200_000) out = out.slice(-100_000);
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    child.on('error', (err) => reject(new Error(`cannot run ${cmd}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else {
        const err = new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${out.slice(-6000)}`);
        err.output = out;
        reject(err);
      }
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** True when the lock directory was left behind by a process that is gone. */
function lockAbandoned(lock) {
  let owner;
  try {
    owner = JSON.parse(readFileSync(join(lock, 'owner.json'), 'utf8'));
  } catch {
    // No (complete) owner file: the owner died between mkdir and writing it, or is
    // writing it right now; only an old one counts as abandoned.
    try {
      return Date.now() - statSync(lock).mtimeMs > OWNERLESS_LOCK_MS;
    } catch {
      return false; // gone meanwhile
    }
  }
  if (owner.host !== hostname()) return false; // cannot tell; wait for it
  // A killed owner can leave its pip running: wait for that too.
  return !pidAlive(owner.pid) && !(owner.child && pidAlive(owner.child));
}

function writeOwner(lock, child = undefined) {
  const owner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), child };
  const tmp = join(lock, `owner.json.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(owner));
  renameSync(tmp, join(lock, 'owner.json'));
}

async function acquireLock(lock, what) {
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeOwner(lock);
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    if (lockAbandoned(lock)) {
      // Move it aside first: a rename succeeds for only one of several waiters.
      const aside = `${lock}.stale-${process.pid}-${Date.now()}`;
      try {
        renameSync(lock, aside);
        rmSync(aside, { recursive: true, force: true });
      } catch {
        // another waiter took it over first
      }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock} (another process is building the venv; remove the directory if it is stale)`);
    if (!announced) {
      process.stderr.write(`python-env: waiting for another process building ${what}...\n`);
      announced = true;
    }
    await sleep(250);
  }
}

function releaseLock(lock) {
  rmSync(lock, { recursive: true, force: true });
}

/** Modules imported as a check before a build is marked finished. */
const IMPORT_CHECK = new Set(['gymnasium', 'numpy', 'pyarrow', 'duckdb', 'pandas', 'dask']);

function importNames(pins) {
  return pins.map((p) => p.split(/[<>=!~;[ ]/)[0].toLowerCase()).filter((name) => IMPORT_CHECK.has(name));
}

/**
 * Removes what is at `dir` before a build, but only when we made it (it has our marker
 * or our building sentinel) or it is empty: `$EXPBUF_VENV` pointing at someone's own
 * directory is refused rather than deleted.
 */
function clearForBuild(dir) {
  if (!existsSync(dir)) return;
  const ours = existsSync(join(dir, MARKER)) || existsSync(join(dir, BUILDING));
  if (!ours && readdirSync(dir).length > 0) {
    throw new Error(`${dir} exists and was not made by scripts/python-env.mjs: remove it or point EXPBUF_VENV elsewhere`);
  }
  // Move it aside first, so that a half-done removal never leaves an unmarked venv.
  const aside = `${dir}.old-${process.pid}-${Date.now()}`;
  renameSync(dir, aside);
  rmSync(aside, { recursive: true, force: true, maxRetries: 3 });
}

async function createVenv(base, dir, onSpawn) {
  try {
    await run(base, ['-m', 'venv', dir], {}, onSpawn);
    return;
  } catch (err) {
    // What was made stays, with our building sentinel: the next build clears it.
    const output = err.output ?? err.message;
    const missingVenv = /ensurepip|No module named venv|python3(\.\d+)?-venv/i.test(output);
    if (!missingVenv) throw err;
    const apt = 'apt-get install python3-venv';
    if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
      throw new Error(`${base} -m venv failed: Python's venv module (or its bundled pip) is missing; run 'sudo ${apt}'\n${output.slice(-2000)}`);
    }
    process.stderr.write(`python-env: ${base} has no working venv module; installing Debian's python3-venv...\n`);
    // python3-venv pulls in the versioned python3.X-venv for Debian's default python3.
    await run('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive ${apt} -y -qq`], {}, onSpawn);
    try {
      await run(base, ['-m', 'venv', dir], {}, onSpawn);
    } catch (again) {
      throw new Error(`${base} -m venv still fails after '${apt}':\n${again.message}`);
    }
  }
}

/**
 * Makes sure the venv for `packages` exists with exactly those pins installed;
 * resolves to the path of its python. Fast (no process started) when it already does.
 */
export async function ensurePython(packages = PINNED_PACKAGES) {
  const pins = normalize(packages);
  const dir = venvDir(pins);
  if (isReady(dir, pins)) return venvPython(dir);
  const lock = `${dir.replace(/[\\/]+$/, '')}.lock`;
  await acquireLock(lock, dir);
  try {
    if (isReady(dir, pins)) return venvPython(dir); // built by whoever held the lock
    const started = Date.now();
    process.stderr.write(`python-env: building ${dir} (${pins.join(' ')})...\n`);
    clearForBuild(dir); // an interrupted build, or other pins under $EXPBUF_VENV
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, BUILDING), `${process.pid}\n`);
    const base = baseInterpreter();
    const onSpawn = (child) => writeOwner(lock, child);
    await createVenv(base, dir, onSpawn);
    const python = venvPython(dir);
    const env = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PYTHONNOUSERSITE: '1' };
    await run(python, ['-m', 'pip', 'install', '--quiet', '--only-binary=:all:', ...pins], { env }, onSpawn);
    const modules = importNames(pins);
    if (modules.length) await run(python, ['-c', `import ${modules.join(', ')}`], { env }, onSpawn);
    const marker = { packages: pins, base, builtAt: new Date().toISOString(), seconds: (Date.now() - started) / 1000 };
    const tmp = join(dir, `${MARKER}.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(marker, null, 2));
    renameSync(tmp, join(dir, MARKER)); // the marker appears whole or not at all
    rmSync(join(dir, BUILDING), { force: true });
    process.stderr.write(`python-env: built ${dir} in ${marker.seconds.toFixed(1)} s\n`);
    return python;
  } finally {
    releaseLock(lock);
  }
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const [command, ...rest] = process.argv.slice(2);
  const packages = rest.length ? rest : PINNED_PACKAGES;
  if (command === 'ensure') {
    ensurePython(packages).then(
      (python) => console.log(python),
      (err) => {
        console.error(err.message);
        process.exit(1);
      },
    );
  } else if (command === 'path') {
    console.log(venvPython(venvDir(packages)));
  } else {
    console.error('usage: node scripts/python-env.mjs ensure|path [requirement...]');
    process.exit(2);
  }
}
