#!/usr/bin/env node
/**
 * Builds the release addon for this machine and copies it to
 * `native/expbuf.<platform>.node`, where the loader (`ts/native/loader.ts`) finds it
 * in a clone.
 *
 *   node scripts/build-native.mjs
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** This machine's napi-rs platform suffix, as the loader spells it. */
export function hostSuffix() {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const glibc = process.report?.getReport()?.header?.glibcVersionRuntime;
    return `linux-${arch}-${glibc ? 'gnu' : 'musl'}`;
  }
  if (platform === 'win32') return `win32-${arch}-gnu`;
  return `${platform}-${arch}`;
}

const LIB = { linux: 'libexpbuf_node.so', darwin: 'libexpbuf_node.dylib', win32: 'expbuf_node.dll' };

export function buildHost() {
  execFileSync('cargo', ['build', '--release', '-p', 'expbuf-node'], { cwd: root, stdio: 'inherit' });
  const lib = LIB[process.platform] ?? 'libexpbuf_node.so';
  mkdirSync(join(root, 'native'), { recursive: true });
  const out = join(root, 'native', `expbuf.${hostSuffix()}.node`);
  copyFileSync(join(root, 'target', 'release', lib), out);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(`built ${buildHost()}`);
