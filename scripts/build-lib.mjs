#!/usr/bin/env node
/**
 * Builds the library as a package uses it, into `lib/` (or the directory given):
 * `lib/esm` (tsc: ES modules and their .d.ts) and `lib/cjs` (one esbuild bundle, and
 * the same declarations as .d.cts), the files `exports` in package.json names. A
 * built clone and the packed tarball hold the same `lib/`.
 *
 *   node scripts/build-lib.mjs [outDir]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

/** The declarations under `from` as .d.cts files under `to`, their relative imports pointing at .cjs. */
function copyDeclarations(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    if (entry.isDirectory()) copyDeclarations(src, join(to, entry.name));
    else if (entry.name.endsWith('.d.ts')) {
      mkdirSync(to, { recursive: true });
      const text = readFileSync(src, 'utf8').replace(/(from\s+['"])(\.{1,2}\/[^'"]+)\.js(['"])/g, '$1$2.cjs$3');
      writeFileSync(join(to, entry.name.replace(/\.d\.ts$/, '.d.cts')), text);
    }
  }
}

export function buildLib(outDir = join(root, 'lib')) {
  rmSync(outDir, { recursive: true, force: true });
  const esm = join(outDir, 'esm');
  const cjs = join(outDir, 'cjs');
  execFileSync(bin('tsc'), ['-p', join(root, 'tsconfig.build.json'), '--outDir', esm], { cwd: root, stdio: 'inherit' });
  // CJS: import.meta.url comes from __filename.
  execFileSync(
    bin('esbuild'),
    [
      'ts/index.ts',
      '--bundle',
      '--platform=node',
      '--format=cjs',
      '--target=node20',
      `--outfile=${join(cjs, 'index.cjs')}`,
      // The optional peer dependency stays the user's own copy, loaded only by a mongodb: pool.
      '--external:mongodb',
      '--define:import.meta.url=__expbufImportMetaUrl',
      "--banner:js=const __expbufImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
      '--log-level=warning',
    ],
    { cwd: root, stdio: 'inherit' },
  );
  copyDeclarations(esm, cjs);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) buildLib(process.argv[2] && resolve(process.argv[2]));
