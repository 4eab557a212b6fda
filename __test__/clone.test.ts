/**
 * A built clone is a package: another project that depends on it (`npm install
 * <path>`, as a `file:` dependency does) type-checks strictly and runs, as ESM and as
 * CJS, with the same entry points the packed tarball has (package.json `exports`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileConsumer } from './support/consumer.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'expbuf-clone-'));
const env = { ...process.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };

beforeAll(() => {
  execFileSync(process.execPath, [join(repo, 'scripts', 'build-lib.mjs')], { cwd: repo, stdio: 'pipe' });
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const program = `
const schema = { obs: { dtype: 'float32', shape: [2] }, action: 'int32' } as const;
const user = new DataUser(new SequentialBuffer(schema, 10, { seed: 1 }));
user.collector.collect({ obs: [1, 2], action: 3 });
user.update();
const b = user.buffer.sample(1);
const action: Int32Array = b.action;
const caught = (() => { try { user.buffer.sample(0); } catch (e) { return e; } })();
console.log(action[0] === 3 && caught instanceof ExpbufError && caught.code === 'EXPBUF_INVALID_ARGUMENT' ? 'ok' : 'wrong');
`;

describe('a built clone as a dependency', () => {
  it('type-checks with --strict and runs as ESM and as CJS', () => {
    const dir = join(work, 'consumer');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
    // The clone is built already (beforeAll); its own scripts need not run again.
    execFileSync('npm', ['install', '--no-save', '--ignore-scripts', repo], { cwd: dir, env, stdio: 'pipe' });
    const imports = "import { DataUser, ExpbufError, SequentialBuffer } from 'expbuf';";
    writeFileSync(join(dir, 'esm.mts'), imports + program);
    writeFileSync(join(dir, 'cjs.cts'), imports + program);
    compileConsumer(repo, dir, env);
    expect(execFileSync(process.execPath, [join(dir, 'out', 'esm.mjs')], { cwd: dir, encoding: 'utf8' }).trim()).toBe('ok');
    expect(execFileSync(process.execPath, [join(dir, 'out', 'cjs.cjs')], { cwd: dir, encoding: 'utf8' }).trim()).toBe('ok');
    // require() from plain JS, too.
    const r = execFileSync(process.execPath, ['-e', "const e = require('expbuf'); console.log(typeof e.ReplayBuffer)"], { cwd: dir, encoding: 'utf8' });
    expect(r.trim()).toBe('function');
  });
});
