/**
 * The README's examples cannot rot: every ```ts block is one or more regions of files
 * in examples/readme/ (each introduced by a `// examples/readme/<name>.ts` line), the
 * block and the files agree character for character, and every such file runs
 * (compiled by `tsc` into dist/, importing `expbuf` as a user does, through the
 * package's own exports).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const dir = join(repo, 'examples', 'readme');
const MARK = /^\/\/ examples\/readme\/([\w-]+)\.ts$/;

/** The text between `// #region readme` and `// #endregion readme` in example `name`. */
function region(name: string): string {
  const text = readFileSync(join(dir, `${name}.ts`), 'utf8');
  const start = text.indexOf('// #region readme\n');
  const end = text.indexOf('// #endregion readme');
  expect(start, `${name}.ts has a readme region`).toBeGreaterThanOrEqual(0);
  return text.slice(start + '// #region readme\n'.length, end);
}

const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));

describe('README examples', () => {
  it('every ts block is regions of example files, verbatim, and every example file is quoted', () => {
    expect(blocks.length).toBeGreaterThan(5);
    const quoted = new Set<string>();
    for (const block of blocks) {
      const lines = block.split('\n');
      expect(lines[0], `a README block starts with its file: ${lines[0]}`).toMatch(MARK);
      let name = '';
      let body = '';
      const flush = () => {
        if (name) expect(body, `README block of ${name}.ts`).toBe(region(name));
      };
      for (const line of lines.slice(0, -1)) {
        const m = MARK.exec(line);
        if (m) {
          flush();
          name = m[1];
          quoted.add(name);
          body = '';
        } else body += `${line}\n`;
      }
      flush();
    }
    expect([...quoted].sort()).toEqual([...files].sort());
  });

  it.each(files)('examples/readme/%s.ts runs', (name) => {
    const out = execFileSync(process.execPath, [join(repo, 'dist', 'examples', 'readme', `${name}.js`)], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
    if (name !== 'threads-agent') expect(out.trim().length).toBeGreaterThan(0);
  });
});
