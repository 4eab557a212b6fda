/**
 * Issue 5's section (and issue 13's MongoDB rows): pool ingest, ReplayBuffer load and
 * sample, embedded, PostgreSQL, and MongoDB as FerretDB on SQLite and on PostgreSQL.
 */
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
  // The helpers stay in scripts/ (they are not compiled into dist/).
  const pgServer = (await import(new URL('../../scripts/pg-server.mjs', import.meta.url).href)) as typeof import('../scripts/pg-server.mjs');
  const mongoServer = (await import(new URL('../../scripts/mongo-server.mjs', import.meta.url).href)) as typeof import('../scripts/mongo-server.mjs');
  const stops: (() => void)[] = [];
  try {
    let url = process.env.EXPBUF_PG_URL;
    if (!url) {
      const dir = mkdtempSync(join(tmpdir(), 'expbuf-bench-pg-'));
      stops.push(() => pgServer.stopServer(dir));
      url = await pgServer.startServer(dir);
    }
    // FerretDB (the only MongoDB-protocol server that installs here), on either store.
    const ferret = async (handler: 'sqlite' | 'postgresql') => {
      const dir = mkdtempSync(join(tmpdir(), `expbuf-bench-mongo-${handler}-`));
      stops.push(() => mongoServer.stopServer(dir));
      return `${await mongoServer.startServer(dir, { handler, postgresUrl: url })}expbuf_bench`;
    };
    const emb = measure('embedded');
    const pg = measure(url);
    const mongoSqlite = measure(await ferret('sqlite'));
    const mongoPg = measure(await ferret('postgresql'));
    table(
      'Pool: 1,000,000 rows of { state: float32[64], action: int32, reward: float32 }, stores of 10 episodes × 1,000 steps; load = ReplayBuffer.load of all rows; sample = ReplayBuffer.sample() of 256',
      ['backend', 'ingest rows/s', 'load rows/s', 'sample µs/batch'],
      [
        ['embedded', fmt(emb.ingest), fmt(emb.load), fmt(emb.sampleUs, 1)],
        ['PostgreSQL (loopback)', fmt(pg.ingest), fmt(pg.load), fmt(pg.sampleUs, 1)],
        ['MongoDB: FerretDB on SQLite (loopback)', fmt(mongoSqlite.ingest), fmt(mongoSqlite.load), fmt(mongoSqlite.sampleUs, 1)],
        ['MongoDB: FerretDB on PostgreSQL (loopback)', fmt(mongoPg.ingest), fmt(mongoPg.load), fmt(mongoPg.sampleUs, 1)],
      ],
    );
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(
      '\nTargets (issues 5 and 13):\n' +
        `- embedded ingest ≥ 200,000 rows/s: ${verdict(emb.ingest >= 200_000)}\n` +
        `- PostgreSQL ingest ≥ 50,000 rows/s: ${verdict(pg.ingest >= 50_000)}\n` +
        `- embedded load ≥ 500,000 rows/s: ${verdict(emb.load >= 500_000)}\n` +
        `- MongoDB (FerretDB) ingest ≥ 50,000 rows/s: SQLite ${verdict(mongoSqlite.ingest >= 50_000)}, PostgreSQL ${verdict(mongoPg.ingest >= 50_000)}\n` +
        '  (FerretDB answers every query by a pass over the collection, so its load pages cost a full scan each; a MongoDB server reads them by index)',
    );
  } finally {
    for (const stop of stops.reverse()) stop();
  }
}
