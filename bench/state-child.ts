/**
 * Issue 4's section, in its own process: save and load throughput of a buffer of
 * 1,000,000 rows of float32[64], beside the raw sequential write and read of a file of
 * the same size, and the peak extra memory during save. Prints JSON.
 *
 * The disk's rate drifts from second to second, so every figure is the best of 3
 * passes, raw and expbuf passes alternating. Reads start from a dropped page cache
 * (root only), as after a restart.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SequentialBuffer } from '../ts/index.js';

const ROWS = 1_000_000;
const PASSES = 3;
const schema = { obs: { dtype: 'float32', shape: [64] } } as const;
const dir = mkdtempSync(join(tmpdir(), 'expbuf-bench-state-'));
const bytes = ROWS * 64 * 4;
const block = Buffer.alloc(8 << 20, 7);
const rawPath = join(dir, 'raw.bin');

function rssNow(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Empties the page cache (root only); returns whether it could. */
function dropCaches(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

function rate(start: number): number {
  return bytes / ((performance.now() - start) / 1000);
}

function rawWrite(): number {
  const t = performance.now();
  const fd = openSync(rawPath, 'w');
  for (let off = 0; off < bytes; off += block.length) writeSync(fd, block, 0, Math.min(block.length, bytes - off));
  fsyncSync(fd);
  closeSync(fd);
  return rate(t);
}

function rawRead(): number {
  const t = performance.now();
  const fd = openSync(rawPath, 'r');
  while (readSync(fd, block, 0, block.length, null) > 0);
  closeSync(fd);
  return rate(t);
}

const b = new SequentialBuffer(schema, ROWS);
const chunk = 10_000;
const obs = new Float32Array(chunk * 64).map((_, i) => i % 977);
for (let i = 0; i < ROWS; i += chunk) b.addBatch({ obs });
const target = new SequentialBuffer(schema, ROWS);

const figures = { rawWrite: [] as number[], rawRead: [] as number[], save: [] as number[], load: [] as number[] };
let cold = true;
let saveExtra = 0;
for (let pass = 0; pass < PASSES; pass++) {
  figures.rawWrite.push(rawWrite());
  cold = dropCaches() && cold;
  figures.rawRead.push(rawRead());
  const statePath = join(dir, `state-${pass}`);
  // Extra memory of a save: resident growth over what this process held just before.
  const before = rssNow();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssNow())), 2);
  let t = performance.now();
  await b.saveState(statePath);
  figures.save.push(rate(t));
  clearInterval(sampler);
  saveExtra = Math.max(saveExtra, Math.max(peak, rssNow()) - before);
  cold = dropCaches() && cold;
  t = performance.now();
  await target.loadState(statePath);
  figures.load.push(rate(t));
  if (target.size !== ROWS) throw new Error('load lost rows');
  rmSync(statePath, { recursive: true });
}
rmSync(dir, { recursive: true, force: true });
const best = (xs: number[]) => Math.max(...xs);
console.log(
  JSON.stringify({
    bytes,
    rawWrite: best(figures.rawWrite),
    rawRead: best(figures.rawRead),
    save: best(figures.save),
    load: best(figures.load),
    saveExtra,
    cold: cold ? 1 : 0,
  }),
);
