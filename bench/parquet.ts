/**
 * Issue 13's Parquet section: exportParquet and importParquet rows/s on an embedded pool
 * of 1,000,000 rows of { state: float32[64], action: int32, reward: float32 } (5,000
 * episodes of 200 steps, meta { vehicle, driver }), the dataset's size beside the raw
 * bytes of its fields, and how far the process's RSS rose during each call (memory is
 * meant to hold one page, not the dataset: two pages are in flight, each copied a few
 * times on its way, so the rise grows with pageSize, not with the dataset). Figures,
 * not assertions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportParquet, importParquet, openPool } from '../ts/index.js';
import { fmt, median, table } from './stats.js';

const ROWS = 1_000_000;
const EPISODE = 200;
const PER_STORE = 50;
const schema = { state: { dtype: 'float32', shape: [64] }, action: 'int32', reward: 'float32' } as const;
const RAW = ROWS * (64 * 4 + 4 + 4);

/** Runs `fn`, sampling RSS every 10 ms; returns its seconds and the RSS rise in bytes. */
async function measured<T>(fn: () => Promise<T>): Promise<{ out: T; s: number; rss: number }> {
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  const t = performance.now();
  try {
    const out = await fn();
    return { out, s: (performance.now() - t) / 1000, rss: Math.max(peak, process.memoryUsage.rss()) - base };
  } finally {
    clearInterval(timer);
  }
}

const mib = (b: number) => `${fmt(b / (1 << 20), 1)} MiB`;

export async function runParquetBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'expbuf-bench-parquet-'));
  try {
    const pool = await openPool(join(dir, 'pool'), { schema });
    // Observation-like data (a random walk per dimension): neither constant nor noise.
    let x = 0x9e3779b9;
    const rand = () => {
      x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return x / 2 ** 32 - 0.5;
    };
    for (let e = 0; e < ROWS / EPISODE; e += PER_STORE) {
      const items = Array.from({ length: PER_STORE }, (_, j) => {
        const state = new Float32Array(EPISODE * 64);
        for (let d = 0; d < 64; d++) state[d] = rand();
        for (let i = 64; i < state.length; i++) state[i] = state[i - 64] + rand() * 0.1;
        return {
          id: `ep-${e + j}`,
          meta: { vehicle: `v${(e + j) % 10}`, driver: `d${(e + j) % 50}` },
          startTime: 1_700_000_000_000 + (e + j) * 10_000,
          steps: {
            state,
            action: Int32Array.from({ length: EPISODE }, () => (rand() > 0 ? 1 : 0)),
            reward: Float32Array.from({ length: EPISODE }, () => rand()),
          },
        };
      });
      await pool.store(items);
    }
    const rows: string[][] = [];
    // What an export cannot beat: reading the pool's pages alone.
    global.gc?.();
    const {
      out: read,
      s: readSecs,
      rss: readRss,
    } = await measured(async () => {
      let n = 0;
      for await (const page of pool.iterate()) for (const it of page) n += it.kind === 'episode' ? it.seqLen : 1;
      return n;
    });
    rows.push(['pool.iterate alone (what an export reads)', fmt(read / readSecs), '', '', mib(readRss)]);
    // Each export three times (a fresh directory each), in turn: the first call of the
    // process also pays for growing the allocator's pages (the RSS column), so the
    // median of three is the rate a run of exports sees; the first call's is printed too.
    const configs = [[], ['vehicle'], ['vehicle', 'driver']];
    const rates: number[][] = configs.map(() => []);
    const results: { files: number; bytes: number; rss: number }[] = [];
    const first = join(dir, 'ds-0-2');
    for (let rep = 0; rep < 3; rep++) {
      for (const [c, partitionBy] of configs.entries()) {
        const out = join(dir, `ds-${c}-${rep}`);
        global.gc?.();
        const { out: s, s: secs, rss } = await measured(() => exportParquet(pool, out, { partitionBy }));
        rates[c].push(s.rows / secs);
        if (rep === 0) results.push({ files: s.files, bytes: s.bytes, rss });
        if (out !== first) rmSync(out, { recursive: true, force: true });
      }
    }
    for (const [c, partitionBy] of configs.entries()) {
      rows.push([
        `export${partitionBy.length ? `, partitionBy ${partitionBy.join(', ')}` : ''} (runs: ${rates[c].map((r) => fmt(r)).join(', ')})`,
        fmt(median(rates[c])),
        `${results[c].files} files, ${mib(results[c].bytes)}`,
        mib(RAW),
        mib(results[c].rss),
      ]);
    }
    await pool.close();
    const copy = await openPool(join(dir, 'copy'), { schema });
    global.gc?.();
    const { out: imported, s: secs, rss } = await measured(() => importParquet(first, copy));
    rows.push(['import (no partitions) into an embedded pool', fmt(imported.rows / secs), '', '', mib(rss)]);
    await copy.close();
    table(
      'Parquet: 1,000,000 rows of { state: float32[64], action: int32, reward: float32 }, 5,000 episodes × 200 steps, meta { vehicle (10), driver (50) }; default pageSize (256 items = 51,200 rows a page, row groups of ≤ 8,192 rows); snappy',
      ['call', 'rows/s (median of 3)', 'dataset', 'raw field bytes', "RSS rise, first run (later calls reuse the first one's)"],
      rows,
    );
    const exportRate = Number(rows[1][1].replace(/,/g, ''));
    const importRate = imported.rows / secs;
    const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
    console.log(
      `\nTargets (issue 13):\n- export ≥ 1,000,000 rows/s: ${verdict(exportRate >= 1_000_000)}\n- import ≥ 500,000 rows/s: ${verdict(importRate >= 500_000)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
