/**
 * The bare napi-rs v3 addon of `bench/napi-floor/` (a `#[napi]` function, a
 * `#[napi]` class method, memory on huge pages and a native gather floor over it), built here by the bench alone: it is
 * its own Cargo workspace, outside the main build and `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface NapiFloor {
  noop(): void;
  Floor: new () => { touch(): void };
  /** Zero-copy memory advised onto huge pages, as expbuf-core's columns are, every page backed. */
  hugePageMemory(bytes: number): Buffer;
  /** Draws `n` of `rows` rows of `mem`'s columns and loads one byte per cache line of each; returns their sum. */
  gatherFloor(mem: Buffer, rows: number, obsBytes: number, n: number, seed: number): number;
}

/** The crate, seen from `dist/bench/`, where this file runs. */
const CRATE = fileURLToPath(new URL('../../bench/napi-floor/', import.meta.url));
/** cargo's name for the library, per platform (as scripts/build-native.mjs names expbuf's). */
const LIB = { darwin: 'libnapi_floor.dylib', win32: 'napi_floor.dll' }[process.platform as string] ?? 'libnapi_floor.so';

/**
 * Builds the addon (cargo does nothing when it is fresh; the first build takes about
 * a minute) and returns its path, or why it could not be built.
 */
export function buildNapiFloor(): { path: string } | { why: string } {
  try {
    execFileSync('cargo', ['build', '--release', '--quiet', '--manifest-path', `${CRATE}Cargo.toml`], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? e).trim();
    return { why: stderr.split('\n').slice(-3).join(' ') };
  }
  return { path: `${CRATE}target/release/${LIB}` };
}

/** Loads the built addon (its file name is cargo's, not `.node`, hence dlopen). */
export function loadNapiFloor(path: string): NapiFloor {
  const module = { exports: {} };
  process.dlopen(module, path);
  return module.exports as NapiFloor;
}
