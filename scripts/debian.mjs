/**
 * Installing what a script or test needs from Debian's packages: with apt-get when this
 * process is root (as CI and the test setup run), else an error that names the command
 * to run and what needs it.
 *
 *   import { installDebianPackages } from './debian.mjs';
 *   installDebianPackages(['postgresql'], 'no PostgreSQL server found', 'or set EXPBUF_PG_URL to a server');
 */
import { execFileSync } from 'node:child_process';

/**
 * Installs `packages` (without recommends) as root; otherwise throws `${why}: run 'sudo
 * apt-get install …'` followed by `alternative` when given.
 */
export function installDebianPackages(packages, why, alternative) {
  const list = packages.join(' ');
  if (process.getuid?.() !== 0) throw new Error(`${why}: run 'sudo apt-get install ${list}'${alternative ? `, ${alternative}` : ''}`);
  execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${list}`], {
    stdio: 'inherit',
  });
}
