/**
 * Finds and loads the compiled addon, in this order:
 * 1. `EXPBUF_NATIVE_PATH`: an explicit `.node` file;
 * 2. `native/expbuf.<platform>.node` under the package root (a clone after `npm install`);
 * 3. the platform package `expbuf-<platform>` (what `npm install expbuf` brings);
 * 4. the WebAssembly build `expbuf-wasm32-wasi`, the fallback where no native package
 *    fits, with a one-line notice (slower calls; handles do not cross threads there).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { ExpbufError } from '../errors.js';

interface Platform {
  platform: string;
  arch: string;
  /** 'gnu' or 'musl' on Linux. */
  libc?: 'gnu' | 'musl';
  /** The glibc version, when the runtime reports one. */
  glibc?: string;
  /** The napi-rs platform suffix, e.g. `linux-x64-gnu`. */
  suffix: string;
}

/** The platform this process runs on, as the napi-rs package names spell it. */
function detectPlatform(): Platform {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
    const glibc = header?.glibcVersionRuntime;
    const libc = glibc ? 'gnu' : 'musl';
    return { platform, arch, libc, glibc, suffix: `${platform}-${arch}-${libc}` };
  }
  // The Windows package is built with mingw (gnu): stock node.exe (MSVC-built) loads it,
  // as it loads any DLL that imports Node-API from node.exe.
  if (platform === 'win32') return { platform, arch, suffix: `${platform}-${arch}-gnu` };
  return { platform, arch, suffix: `${platform}-${arch}` };
}

/** The WebAssembly build's package. */
const WASM_PACKAGE = 'expbuf-wasm32-wasi';

/** The platform as errors and notices name it, e.g. `linux x64 (glibc 2.36)`. */
function describe(p: Platform): string {
  const libc = p.libc === 'gnu' ? ` (glibc ${p.glibc})` : p.libc === 'musl' ? ' (musl)' : '';
  return `${p.platform} ${p.arch}${libc}`;
}

/** The directory of the nearest package.json named `expbuf` above `from`. */
function packageRoot(from: string): { root: string; version: string } | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
      if (json.name === 'expbuf') return { root: dir, version: json.version ?? '' };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The search, step by step; `load` follows it and a failure reports it. */
function nativeCandidates(p = detectPlatform()): { env?: string; local?: string; pkg: string; version: string } {
  const here = dirname(fileURLToPath(import.meta.url));
  const found = packageRoot(here);
  return {
    env: process.env.EXPBUF_NATIVE_PATH || undefined,
    local: found && join(found.root, 'native', `expbuf.${p.suffix}.node`),
    pkg: `expbuf-${p.suffix}`,
    version: found?.version ?? '',
  };
}

/** Loads the addon (see the search order above). */
export function load(): unknown {
  const require = createRequire(import.meta.url);
  const p = detectPlatform();
  const c = nativeCandidates(p);
  if (c.env !== undefined) {
    if (!existsSync(c.env)) throw new ExpbufError('EXPBUF_NOT_FOUND', `expbuf: EXPBUF_NATIVE_PATH is set to ${c.env}, which does not exist`);
    return require(c.env) as unknown;
  }
  if (c.local !== undefined && existsSync(c.local)) return require(c.local) as unknown;
  let cause: unknown;
  try {
    return require(c.pkg) as unknown;
  } catch (e) {
    cause = e;
  }
  try {
    const wasm = require(WASM_PACKAGE) as unknown;
    if (isMainThread) {
      console.error(
        `expbuf: no native addon for ${describe(p)}; using the WebAssembly build (${WASM_PACKAGE}): slower calls, and handles do not cross worker threads.`,
      );
    }
    return wasm;
  } catch {
    // Not installed either: the error below names the native package (and the fallback).
  }
  throw new ExpbufError(
    'EXPBUF_NOT_FOUND',
    `expbuf: no native addon for ${describe(p)}. ` +
      `Looked for EXPBUF_NATIVE_PATH (unset), ${c.local ?? 'a local build (no expbuf package root found)'}, and the package ${c.pkg}. ` +
      `Either install the package for this platform: npm install ${c.pkg}${c.version ? `@${c.version}` : ''} ` +
      `(it is an optional dependency of expbuf; --omit=optional or a lockfile from another platform leaves it out), ` +
      'or build from source: git clone the expbuf repository at this version, run npm install there (needs cargo), ' +
      `and set EXPBUF_NATIVE_PATH to its native/expbuf.${p.suffix}.node. ` +
      `Where neither is possible, the slower WebAssembly build works: npm install --cpu=wasm32 ${WASM_PACKAGE}${c.version ? `@${c.version}` : ''}.`,
    { cause },
  );
}
