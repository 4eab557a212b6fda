/** Timing helpers: median of repeated runs, and a table printer. */

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median wall time in ns of `fn()` over `reps` runs after one warm-up. */
export function timeNs(fn: () => void, reps = 5): number {
  fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0));
  }
  return median(t);
}

/** Median ns per call of `fn` over 15 blocks of `calls` calls, after `warm` calls. */
export function perCallNs(fn: () => void, calls: number, warm = 200): number {
  for (let i = 0; i < warm; i++) fn();
  const t: number[] = [];
  for (let rep = 0; rep < 15; rep++) {
    t.push(
      timeNs(() => {
        for (let i = 0; i < calls; i++) fn();
      }, 1) / calls,
    );
  }
  return median(t);
}

/** Resident bytes of this process after a full collection (when exposed: node --expose-gc). */
export function rss(): number {
  globalThis.gc?.();
  return process.memoryUsage().rss;
}

export function table(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  console.log(`\n${title}`);
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}

export const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A target's verdict as the tables print it. */
export const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
