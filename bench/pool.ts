/** Issue 5's section: pool ingest, ReplayBuffer load and sample, embedded and PostgreSQL. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, table } from './stats.js';

function measure(target: string): Record<string, number> {
  const child = fileURLToPath(new URL('./pool-child.js', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', child, target], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop() as string) as Record<string, number>;
}

export async function runPoolBench(): Promise<void> {
  // The helper stays in scripts/ (it is not compiled into dist/).
  const helper = new URL('../../scripts/pg-server.mjs', import.meta.url).href;
  const { startServer, stopServer } = (await import(helper)) as typeof import('../scripts/pg-server.mjs');
  let url = process.env.EXPBUF_PG_URL;
  let dir: string | undefined;
  if (!url) {
    dir = mkdtempSync(join(tmpdir(), 'expbuf-bench-pg-'));
    url = await startServer(dir);
  }
  try {
    const emb = measure('embedded');
    const pg = measure(url);
    table(
      'Pool: 1,000,000 rows of { state: float32[64], action: int32, reward: float32 }, stores of 10 episodes × 1,000 steps; load = ReplayBuffer.load of all rows; sample = ReplayBuffer.sample() of 256',
      ['backend', 'ingest rows/s', 'load rows/s', 'sample µs/batch'],
      [
        ['embedded', fmt(emb.ingest), fmt(emb.load), fmt(emb.sampleUs, 1)],
        ['PostgreSQL (loopback)', fmt(pg.ingest), fmt(pg.load), fmt(pg.sampleUs, 1)],
      ],
    );
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(
      '\nTargets (issue 5):\n' +
        `- embedded ingest ≥ 200,000 rows/s: ${verdict(emb.ingest >= 200_000)}\n` +
        `- PostgreSQL ingest ≥ 50,000 rows/s: ${verdict(pg.ingest >= 50_000)}\n` +
        `- embedded load ≥ 500,000 rows/s: ${verdict(emb.load >= 500_000)}`,
    );
  } finally {
    if (dir) stopServer(dir);
  }
}
