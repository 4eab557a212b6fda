/**
 * Loads the compiled addon. Order: `EXPBUF_NATIVE_PATH`, then a locally built
 * `native/expbuf.<platform>.node` (a clone after `npm install`).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Binding from '../native/binding.js';

function platformSuffix(): string {
  const { platform, arch } = process;
  if (platform !== 'linux') return `${platform}-${arch}`;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return `${platform}-${arch}-${report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'}`;
}

function load(): typeof Binding {
  const require = createRequire(import.meta.url);
  const here = dirname(fileURLToPath(import.meta.url));
  const file = `expbuf.${platformSuffix()}.node`;
  const candidates = [
    process.env.EXPBUF_NATIVE_PATH,
    join(here, '..', 'native', file),
    join(here, '..', '..', 'native', file),
  ].filter((p): p is string => typeof p === 'string' && p.length > 0);
  for (const path of candidates) {
    if (existsSync(path)) return require(path) as typeof Binding;
  }
  throw new Error(
    `expbuf: no native addon for ${platformSuffix()} (looked for ${candidates.join(', ')}). ` +
      'Build it from a clone with `npm install` (needs cargo), or set EXPBUF_NATIVE_PATH.',
  );
}

export const native: typeof Binding = load();
