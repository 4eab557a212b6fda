/**
 * The npm packages, from the packed tarballs alone: installed into a fresh project
 * outside the repo with no cargo or rustc on the PATH and no registry, type-checked
 * with tsc --strict, and run as ESM and as CJS.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConsumer } from './support/consumer.js';
import { smoke, TARGETS, targetNode } from '../scripts/cross.mjs';
import { checkMachO } from '../scripts/macho.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
const tarballs = join(repo, 'dist-npm');
const rootTgz = join(tarballs, `expbuf-${pkg.version}.tgz`);
const platformTgz = join(tarballs, `expbuf-linux-x64-gnu-${pkg.version}.tgz`);
const work = mkdtempSync(join(tmpdir(), 'expbuf-packed-'));
/** Root tarball size bound: compiled JS and types only. */
const ROOT_MAX_BYTES = 200 * 1024;
/** The glibc the README promises for the packed Linux binaries (zig's floor); they must not need more. */
const GLIBC_FLOOR = '2.17';

// Only node's own directory and the system's: cargo and rustc live in ~/.cargo/bin.
const env = {
  ...process.env,
  PATH: [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
  npm_config_registry: 'http://127.0.0.1:9/',
  npm_config_offline: 'true',
  npm_config_fetch_retries: '0',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

function project(name: string, tgzs: string[], flags: string[] = []): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, version: '1.0.0' }));
  execFileSync('npm', ['install', ...flags, ...tgzs], { cwd: dir, env, stdio: 'pipe' });
  return dir;
}

/**
 * The npm dependencies of the package in `tgz` (the wasm package's runtime) and theirs,
 * packed from this repo's node_modules: offline, npm cannot fetch them from the registry.
 */
function dependencyTarballs(tgz: string): string[] {
  const manifest = (json: string) => (JSON.parse(json) as { dependencies?: Record<string, string> }).dependencies ?? {};
  const names = new Set<string>();
  const visit = (deps: Record<string, string>) => {
    for (const name of Object.keys(deps)) {
      if (names.has(name)) continue;
      names.add(name);
      visit(manifest(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')));
    }
  };
  visit(manifest(execFileSync('tar', ['xzOf', tgz, 'package/package.json'], { encoding: 'utf8' })));
  const out = join(work, 'deps');
  mkdirSync(out, { recursive: true });
  return [...names].map((name) => {
    const file = execFileSync('npm', ['pack', join(repo, 'node_modules', name), '--ignore-scripts', '--pack-destination', out, '--silent'], {
      env,
      encoding: 'utf8',
    });
    return join(out, file.trim().split('\n').pop() as string);
  });
}

beforeAll(() => {
  // The pack's report (per target: build seconds, size, the smoke suite's verdict; the
  // tarballs) goes to the test log; cargo's progress (stderr) does not.
  const report = execFileSync('npm', ['run', '--silent', 'pack'], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  console.log(report.trim());
  // Eight targets built cold take about 17 minutes on CI's 2 cores; the bound leaves room.
}, 2_400_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const program = (imports: string) => `${imports}
const schema = { obs: { dtype: 'float32', shape: [4] }, action: 'int32' } as const;
const buffer = new SequentialBuffer(schema, 100, { seed: 1 });
const user = new DataUser(buffer);
for (let i = 0; i < 10; i++) user.collector.collect({ obs: [i, i, i, i], action: i });
const moved: number = user.update();
const batch = buffer.sample(4);
const obs: Float32Array = batch.obs;
const ok = moved === 10 && buffer.size === 10 && batch.action.length === 4 &&
  Array.from(batch.action).every((a) => obs[batch.action.indexOf(a) * 4] === a);
console.log(ok ? 'ok' : 'wrong values');
`;

describe('installed from the packed tarballs', () => {
  it('installs offline without cargo, type-checks strictly, runs as ESM and CJS', () => {
    expect(spawnSync('sh', ['-c', 'command -v cargo || command -v rustc'], { env }).status).not.toBe(0);
    const dir = project('consumer', [rootTgz, platformTgz]);
    writeFileSync(join(dir, 'esm.mts'), program("import { DataUser, SequentialBuffer } from 'expbuf';"));
    writeFileSync(join(dir, 'cjs.cts'), program("import { DataUser, SequentialBuffer } from 'expbuf';"));
    compileConsumer(repo, dir, env);
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    expect(execFileSync(process.execPath, [join(dir, 'out', 'esm.mjs')], { env, encoding: 'utf8' }).trim()).toBe('ok');
    expect(execFileSync(process.execPath, [join(dir, 'out', 'cjs.cjs')], { env, encoding: 'utf8' }).trim()).toBe('ok');

    // A misspelt field is a type error, in both module kinds.
    for (const ext of ['mts', 'cts']) {
      writeFileSync(
        join(dir, `bad.${ext}`),
        `import { SequentialBuffer } from 'expbuf';\nconst b = new SequentialBuffer({ reward: 'float32' }, 10);\nb.add({ rewrad: 1 });\n`,
      );
      const r = spawnSync(
        process.execPath,
        [
          tsc,
          '--strict',
          '--noEmit',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--typeRoots',
          join(repo, 'node_modules', '@types'),
          '--types',
          'node',
          join(dir, `bad.${ext}`),
        ],
        { env, encoding: 'utf8' },
      );
      expect(r.status).not.toBe(0);
      expect(r.stdout).toContain('rewrad');
    }
  });

  it('each platform tarball, installed into a fresh project, passes the smoke suite under its own Node (the host directly, arm64 under qemu, musl under a musl Node and loader, Windows under wine, wasm by this Node) with the same seeded rows', () => {
    const entry = (dir: string) => join(dir, 'node_modules', 'expbuf', 'lib', 'cjs', 'index.cjs');
    const host = smoke('host', entry(project('smoke-host', [rootTgz, platformTgz])));
    expect(host).toMatchObject({ ok: true, moved: 100, fromWorker: 1000 });
    for (const [suffix] of Object.entries(TARGETS).filter(([, t]) => t.runner !== undefined)) {
      // npm installs another platform's package only when forced; on that platform it picks the optional dependency itself.
      const tgz = join(tarballs, `expbuf-${suffix}-${pkg.version}.tgz`);
      const dir = project(`smoke-${suffix}`, [rootTgz, tgz, ...dependencyTarballs(tgz)], ['--force']);
      const got = smoke(suffix, entry(dir), dir);
      if (TARGETS[suffix].wasm) {
        // No native package in this project: the loader falls back to wasm, and says so.
        expect(got, suffix).toMatchObject({ ok: true, wasm: true, moved: 100, fromWorker: 0, stateRoundTrip: true, worker: 'refused, as documented for wasm' });
        const r = spawnSync(process.execPath, ['--no-warnings', '-e', "require('expbuf')"], {
          cwd: dir,
          env: { ...env, EXPBUF_NATIVE_PATH: '' },
          encoding: 'utf8',
        });
        expect(r.status, suffix).toBe(0);
        expect(r.stderr.trim(), suffix).toMatch(
          /^expbuf: no native addon for linux x64 \(glibc [\d.]+\); using the WebAssembly build \(expbuf-wasm32-wasi\)[^\n]*$/,
        );
      } else {
        expect(got, suffix).toMatchObject({ ok: true, wasm: false, moved: 100, fromWorker: 1000, stateRoundTrip: true, worker: 'rows in order' });
      }
      expect(got.sample, suffix).toEqual(host.sample);
    }
  }, 600_000);

  it('each darwin tarball holds a binary that passes the static checks, and a changed byte fails its signature', () => {
    for (const [suffix, { macho }] of Object.entries(TARGETS)) {
      if (macho === undefined) continue;
      const dir = join(work, `static-${suffix}`);
      mkdirSync(dir);
      execFileSync('tar', ['xzf', join(tarballs, `expbuf-${suffix}-${pkg.version}.tgz`), '-C', dir]);
      const node = join(dir, 'package', `expbuf.${suffix}.node`);
      const facts = checkMachO(node, macho);
      expect(facts.minos, suffix).toBe(macho.minos);
      expect(facts.napiImports, suffix).toBeGreaterThan(20);
      if (macho.cpu === 'arm64') expect(facts.signature, suffix).toMatch(/^ad-hoc, \d+ SHA-256 page hashes verified$/);
      // The checks can fail: one byte of code changed, or the other CPU asked for.
      const bytes = readFileSync(node);
      bytes[0x4000] ^= 0xff;
      writeFileSync(`${node}.changed`, bytes);
      if (facts.signature !== undefined) expect(() => checkMachO(`${node}.changed`, macho), suffix).toThrow(/hash does not match/);
      expect(() => checkMachO(node, { ...macho, cpu: macho.cpu === 'arm64' ? 'x64' : 'arm64' }), suffix).toThrow(/CPU type/);
    }
  });

  it('without its platform package the loader names the package and both fixes', () => {
    const dir = project('no-platform', [rootTgz]);
    const r = spawnSync(process.execPath, ['-e', "require('expbuf')"], { cwd: dir, env: { ...env, EXPBUF_NATIVE_PATH: '' }, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('linux x64 (glibc');
    expect(r.stderr).toContain(`npm install expbuf-linux-x64-gnu@${pkg.version}`);
    expect(r.stderr).toContain('build from source');
    expect(r.stderr).toContain('EXPBUF_NATIVE_PATH');
  });

  it('under a musl Node and under Windows Node the loader detects the platform and names its package', () => {
    const dir = project('no-platform-foreign', [rootTgz]);
    for (const [suffix, detected] of [
      ['linux-x64-musl', 'linux x64 (musl)'],
      ['win32-x64-gnu', 'win32 x64.'],
    ]) {
      const runner = TARGETS[suffix].runner;
      if (runner === undefined) throw new Error(`${suffix} has no runner`);
      const [cmd, args] = runner(targetNode(suffix));
      const r = spawnSync(cmd, [...args, '-e', "require('expbuf')"], { cwd: dir, env: { ...env, EXPBUF_NATIVE_PATH: '' }, encoding: 'utf8' });
      expect(r.status, suffix).not.toBe(0);
      expect(r.stderr, suffix).toContain(`no native addon for ${detected}`);
      expect(r.stderr, suffix).toContain(`npm install expbuf-${suffix}@${pkg.version}`);
    }
  });

  it('the root tarball holds compiled JS and types only, within its size bound', () => {
    const files = execFileSync('tar', ['tzf', rootTgz], { encoding: 'utf8' }).trim().split('\n');
    const size = statSync(rootTgz).size;
    console.log(
      `root tarball: ${(size / 1024).toFixed(1)} KiB, ${files.length} files; platform tarball: ${(statSync(platformTgz).size / 1024).toFixed(1)} KiB`,
    );
    expect(files.filter((f) => /\.rs$|\/target\/|__test__|\.test\.|\/src\/|(?<!\.d)\.ts$|\.node$/.test(f))).toEqual([]);
    expect(files).toContain('package/lib/esm/ts/index.js');
    expect(files).toContain('package/lib/cjs/index.cjs');
    expect(size).toBeLessThan(ROOT_MAX_BYTES);
    const manifest = JSON.parse(execFileSync('tar', ['xzOf', rootTgz, 'package/package.json'], { encoding: 'utf8' })) as {
      optionalDependencies: Record<string, string>;
      exports: Record<string, { import: unknown; require: unknown }>;
      engines: { node: string };
    };
    expect(manifest.optionalDependencies['expbuf-linux-x64-gnu']).toBe(pkg.version);
    expect(Object.values(manifest.optionalDependencies).every((v) => v === pkg.version)).toBe(true);
    expect(manifest.exports['.'].import).toBeDefined();
    expect(manifest.exports['.'].require).toBeDefined();
    expect(manifest.engines.node).toBeDefined();
  });

  it(`the packed Linux binaries need no glibc newer than ${GLIBC_FLOOR}, as the README says`, () => {
    const linux = Object.entries(TARGETS).filter(([, t]) => t.glibc !== undefined);
    expect(linux.map(([s]) => s)).toEqual(['linux-x64-gnu', 'linux-arm64-gnu']);
    for (const [suffix, { glibc }] of linux) {
      expect(glibc, suffix).toBe(GLIBC_FLOOR);
      const tgz = join(tarballs, `expbuf-${suffix}-${pkg.version}.tgz`);
      const binary = execFileSync('tar', ['xzOf', tgz, `package/expbuf.${suffix}.node`], { maxBuffer: 1 << 30 }).toString('latin1');
      const versions = [...binary.matchAll(/GLIBC_2\.(\d+)(?:\.(\d+))?/g)].map((m) => [2, Number(m[1]), Number(m[2] ?? 0)]);
      expect(versions.length, suffix).toBeGreaterThan(0);
      const newest = versions.sort((a, b) => a[1] - b[1] || a[2] - b[2]).pop() as number[];
      const [, floorMinor] = GLIBC_FLOOR.split('.').map(Number);
      expect(newest[1], suffix).toBeLessThanOrEqual(floorMinor);
    }
    expect(readFileSync(join(repo, 'README.md'), 'utf8')).toContain(`glibc ${GLIBC_FLOOR}`);
  });
});
