/** Issue 4's section: state save/load throughput against the raw disk rates. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmt, table } from './stats.js';

export function runStateBench(): void {
  const child = fileURLToPath(new URL('./state-child.js', import.meta.url));
  const r = JSON.parse(execFileSync(process.execPath, [child], { encoding: 'utf8' }).trim().split('\n').pop() as string) as Record<string, number>;
  const mb = (x: number) => fmt(x / 1e6, 0);
  const reads = r.cold ? 'reads from a dropped page cache (the disk, as after a restart)' : 'reads from the page cache (not root: could not drop it)';
  table(
    `State: 1,000,000 rows of float32[64] (${fmt(r.bytes / 1e6, 0)} MB), best of 3 alternating passes; raw = the same bytes as one file, 8 MiB writes + fsync, 8 MiB reads; ${reads}`,
    ['operation', 'MB/s', '% of raw'],
    [
      ['raw sequential write', mb(r.rawWrite), '100'],
      ['saveState', mb(r.save), fmt((100 * r.save) / r.rawWrite, 0)],
      ['raw sequential read', mb(r.rawRead), '100'],
      ['loadState', mb(r.load), fmt((100 * r.load) / r.rawRead, 0)],
    ],
  );
  const extraPct = (100 * r.saveExtra) / r.bytes;
  console.log(`\npeak extra resident memory during saveState: ${fmt(r.saveExtra / 1e6, 1)} MB (${fmt(extraPct, 1)}% of the buffer)`);
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(
    '\nTargets (issue 4):\n' +
      `- save ≥ 50% of raw write: ${verdict(r.save >= r.rawWrite / 2)}; load ≥ 50% of raw read: ${verdict(r.load >= r.rawRead / 2)}\n` +
      `- peak extra memory during save ≤ 10%: ${verdict(extraPct <= 10)}`,
  );
}
