import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Type-checks and compiles a consumer project's `esm.mts` and `cjs.cts` (`dir`, which
 * has expbuf installed) with `tsc --strict` as a user's `nodenext` project would, into
 * `dir/out`; throws with tsc's output when either fails to check.
 */
export function compileConsumer(repo: string, dir: string, env: NodeJS.ProcessEnv): void {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        outDir: 'out',
        typeRoots: [join(repo, 'node_modules', '@types')],
        types: ['node'],
      },
      files: ['esm.mts', 'cjs.cts'],
    }),
  );
  execFileSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { env, stdio: 'pipe' });
}
