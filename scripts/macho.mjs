/**
 * Static checks of a Mach-O addon, for the darwin targets that cannot run here
 * (scripts/cross.mjs): what macOS's loader and Node need of a `.node` file, read from
 * the file itself.
 *
 *   import { checkMachO } from './macho.mjs';
 *   const facts = checkMachO(path, { cpu: 'arm64', minos: '11.0' });  // throws on a failed check
 *
 * Checked: a 64-bit Mach-O dylib or bundle for the expected CPU; `_napi_register_module_v1`
 * exported; every `_napi_*` symbol it uses looked up in the flat namespace (Node provides
 * them; no library may be bound to them), read from dyld's bind tables by LLVM's
 * `llvm-objdump` (Debian's `llvm`), since zig's output marks its nlist ordinals as out of
 * sync with them; the minimum macOS version it was built for; and, where the file carries
 * a code signature (always on arm64, which runs only signed code), an ad-hoc
 * CodeDirectory whose SHA-256 page hashes match the file's pages.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const MH_MAGIC_64 = 0xfeedfacf;
const CPU = { arm64: 0x0100000c, x64: 0x01000007 };
const MH_DYLIB = 6;
const MH_BUNDLE = 8;
const LC_SYMTAB = 0x2;
const LC_LOAD_DYLIB = 0xc;
const LC_CODE_SIGNATURE = 0x1d;
const LC_VERSION_MIN_MACOSX = 0x24;
const LC_BUILD_VERSION = 0x32;
const PLATFORM_MACOS = 1;
const N_EXT = 0x01;
const N_TYPE = 0x0e;
const N_SECT = 0x0e;
const N_UNDF = 0x00;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_ADHOC = 0x2;
const CS_HASHTYPE_SHA256 = 2;

/** `X.Y.Z` from Mach-O's nibble-packed version (xxxx.yy.zz). */
const version = (v) => `${v >>> 16}.${(v >>> 8) & 0xff}${v & 0xff ? `.${v & 0xff}` : ''}`;

/** Compares dotted versions numerically. */
function versionAtMost(a, b) {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0);
  return true;
}

/**
 * Checks `path` as described above; returns what it found (`minos`, `dylibs`, `napiImports`,
 * `signature`). Throws an Error naming the first failed check.
 */
export function checkMachO(path, { cpu, minos }) {
  const f = readFileSync(path);
  const fail = (what) => {
    throw new Error(`${path}: ${what}`);
  };
  if (f.readUInt32LE(0) !== MH_MAGIC_64) fail('not a 64-bit little-endian Mach-O file');
  if (f.readUInt32LE(4) !== CPU[cpu]) fail(`CPU type 0x${f.readUInt32LE(4).toString(16)}, expected ${cpu}`);
  const filetype = f.readUInt32LE(12);
  if (filetype !== MH_DYLIB && filetype !== MH_BUNDLE) fail(`file type ${filetype}, expected a dylib (6) or bundle (8)`);
  const ncmds = f.readUInt32LE(16);

  let symtab;
  let signature;
  let built;
  const dylibs = [];
  for (let i = 0, at = 32; i < ncmds; i++) {
    const cmd = f.readUInt32LE(at);
    const size = f.readUInt32LE(at + 4);
    if (cmd === LC_SYMTAB) symtab = { symoff: f.readUInt32LE(at + 8), nsyms: f.readUInt32LE(at + 12), stroff: f.readUInt32LE(at + 16) };
    else if (cmd === LC_CODE_SIGNATURE) signature = { off: f.readUInt32LE(at + 8), size: f.readUInt32LE(at + 12) };
    else if (cmd === LC_BUILD_VERSION) {
      if (f.readUInt32LE(at + 8) !== PLATFORM_MACOS) fail(`built for platform ${f.readUInt32LE(at + 8)}, not macOS`);
      built = version(f.readUInt32LE(at + 12));
    } else if (cmd === LC_VERSION_MIN_MACOSX) built = version(f.readUInt32LE(at + 8));
    else if (cmd === LC_LOAD_DYLIB) {
      const name = f.subarray(at + f.readUInt32LE(at + 8), at + size);
      dylibs.push(name.subarray(0, name.indexOf(0)).toString('latin1'));
    }
    at += size;
  }
  if (built === undefined) fail('no minimum macOS version (LC_BUILD_VERSION or LC_VERSION_MIN_MACOSX)');
  if (!versionAtMost(built, minos)) fail(`minimum macOS ${built}, expected ${minos} or older`);
  if (symtab === undefined) fail('no symbol table');

  const name = (strx) => {
    const s = symtab.stroff + strx;
    return f.subarray(s, f.indexOf(0, s)).toString('latin1');
  };
  let registers = false;
  const napiImports = [];
  for (let i = 0; i < symtab.nsyms; i++) {
    const e = symtab.symoff + 16 * i;
    const type = f[e + 4];
    const sym = name(f.readUInt32LE(e));
    if ((type & N_EXT) === 0) continue;
    if ((type & N_TYPE) === N_SECT && sym === '_napi_register_module_v1') registers = true;
    if ((type & N_TYPE) === N_UNDF && sym.startsWith('_napi_')) napiImports.push(sym);
  }
  if (!registers) fail('_napi_register_module_v1 is not exported');
  if (napiImports.length === 0) fail('imports no napi_* symbol');
  // Each bind-table row ends with its dylib (or `flat-namespace`) and the symbol.
  const binds = execFileSync('llvm-objdump', ['--macho', '--bind', '--lazy-bind', '--weak-bind', path], { encoding: 'utf8' });
  const boundTo = new Map();
  for (const row of binds.split('\n')) {
    const cols = row.trim().split(/\s+/);
    if (cols.length >= 3 && cols.at(-1).startsWith('_napi_')) boundTo.set(cols.at(-1), cols.at(-2));
  }
  for (const sym of napiImports) {
    const to = boundTo.get(sym);
    if (to !== 'flat-namespace') fail(`${sym} is bound to ${to ?? 'nothing'}, not looked up in the flat namespace`);
  }
  if (cpu === 'arm64' && signature === undefined) fail('no code signature (arm64 macOS runs only signed code)');
  return { minos: built, dylibs, napiImports: napiImports.length, signature: signature && checkSignature(f, signature, fail) };
}

/** Checks the embedded signature's CodeDirectory: ad-hoc, SHA-256, every page hash. */
function checkSignature(f, { off }, fail) {
  if (f.readUInt32BE(off) !== CSMAGIC_EMBEDDED_SIGNATURE) fail('the code signature is not an embedded signature blob');
  const count = f.readUInt32BE(off + 8);
  let cd;
  for (let i = 0; i < count; i++) {
    const blob = off + f.readUInt32BE(off + 12 + 8 * i + 4);
    if (f.readUInt32BE(blob) === CSMAGIC_CODEDIRECTORY) cd = blob;
  }
  if (cd === undefined) fail('the code signature has no CodeDirectory');
  const flags = f.readUInt32BE(cd + 12);
  const hashOffset = f.readUInt32BE(cd + 16);
  const nCodeSlots = f.readUInt32BE(cd + 28);
  const codeLimit = f.readUInt32BE(cd + 32);
  const hashSize = f[cd + 36];
  const hashType = f[cd + 37];
  const pageSize = 2 ** f[cd + 39];
  if ((flags & CS_ADHOC) === 0) fail('the signature is not ad-hoc');
  if (hashType !== CS_HASHTYPE_SHA256 || hashSize !== 32) fail(`hash type ${hashType} of ${hashSize} bytes, expected SHA-256`);
  if (nCodeSlots !== Math.ceil(codeLimit / pageSize)) fail(`${nCodeSlots} page hashes for ${codeLimit} bytes of ${pageSize}-byte pages`);
  for (let i = 0; i < nCodeSlots; i++) {
    const page = f.subarray(i * pageSize, Math.min((i + 1) * pageSize, codeLimit));
    const want = f.subarray(cd + hashOffset + 32 * i, cd + hashOffset + 32 * (i + 1));
    if (!createHash('sha256').update(page).digest().equals(want)) fail(`page ${i}'s hash does not match the signature`);
  }
  return `ad-hoc, ${nCodeSlots} SHA-256 page hashes verified`;
}
