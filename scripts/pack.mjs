#!/usr/bin/env node
/**
 * `npm run pack`: builds the release addon, the cross targets of scripts/cross.mjs
 * (each checked by the smoke suite under its own Node) and the JS, stages the root
 * package and one package per built platform (napi-rs's layout), and packs them all
 * into dist-npm/. Prints each tarball and its size.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLib } from './build-lib.mjs';
import { buildAndCheck, WASM_FILES } from './cross.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stage = join(root, 'build', 'npm');
const pkgDir = join(stage, 'expbuf');
const platformsDir = join(stage, 'platforms');
const out = join(root, 'dist-npm');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { version } = pkg;

rmSync(stage, { recursive: true, force: true });
rmSync(out, { recursive: true, force: true });
mkdirSync(pkgDir, { recursive: true });
mkdirSync(out, { recursive: true });

// 1. The release addon, for this machine's target.
run('npm', ['run', '--silent', 'build:native']);

// 2. The library as a package uses it (lib/esm, lib/cjs), as a built clone has it.
buildLib(join(pkgDir, 'lib'));

// 3. The cross targets (scripts/cross.mjs), each run through the smoke suite under its
// own Node before it is packed; a failure stops the pack. linux-x64-gnu is among them:
// its zig build (glibc 2.17) replaces step 1's in native/, and is the one packed.
for (const line of await buildAndCheck(undefined, join(pkgDir, 'lib', 'cjs', 'index.cjs'))) console.log(line);

// 4. The platform packages, and the binaries built here moved into them.
run(bin('napi'), ['create-npm-dirs', '--npm-dir', relative(root, platformsDir)]);
// (`napi artifacts` wants every configured target; only this machine's is built here.)
for (const suffix of readdirSync(platformsDir)) {
  const built = join(root, 'native', `expbuf.${suffix}.node`);
  if (existsSync(built)) copyFileSync(built, join(platformsDir, suffix, `expbuf.${suffix}.node`));
}
// The wasm fallback: its module, napi-rs's loader for it and the loader's thread worker.
if (existsSync(join(root, 'native', 'wasm', WASM_FILES[1]))) {
  for (const f of WASM_FILES) copyFileSync(join(root, 'native', 'wasm', f), join(platformsDir, 'wasm32-wasi', f));
}
const platforms = readdirSync(platformsDir).filter((d) => readdirSync(join(platformsDir, d)).some((f) => f.endsWith('.node') || f.endsWith('.wasm')));

// 5. The root package: compiled JS and types only, the packed platform packages at this
// exact version (a target of package.json that was not built here is not promised).
const rootPkg = {
  name: pkg.name,
  version,
  description: pkg.description,
  license: pkg.license,
  type: 'module',
  // The same entry points as a built clone's.
  main: pkg.main,
  types: pkg.types,
  exports: pkg.exports,
  // The Node versions the test suite runs on.
  engines: { node: '^20.17.0' },
  files: ['lib', 'README.md'],
  optionalDependencies: Object.fromEntries(platforms.map((s) => [`${pkg.name}-${s}`, version])),
  // Only postgres: pools load it.
  peerDependencies: pkg.peerDependencies,
  peerDependenciesMeta: pkg.peerDependenciesMeta,
};
writeFileSync(join(pkgDir, 'package.json'), `${JSON.stringify(rootPkg, null, 2)}\n`);
copyFileSync(join(root, 'README.md'), join(pkgDir, 'README.md'));

// 6. Pack.
const packed = [];
for (const dir of [pkgDir, ...platforms.map((p) => join(platformsDir, p))]) {
  const name = execFileSync('npm', ['pack', dir, '--pack-destination', out, '--silent'], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
  packed.push(name);
}
console.log(`\npacked into ${relative(root, out)}/:`);
for (const f of packed) console.log(`  ${f}  ${(statSync(join(out, f)).size / 1024).toFixed(1)} KiB`);
if (!existsSync(join(out, `${pkg.name}-${version}.tgz`))) throw new Error('root tarball missing');
