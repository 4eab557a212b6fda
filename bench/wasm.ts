/**
 * Issue 15's wasm figures: the WebAssembly fallback (`expbuf-wasm32-wasi`) against the
 * native addon on this machine, each in its own process (bench/wasm-child.ts). Needs the
 * wasm build in native/wasm/ (`node scripts/cross.mjs wasm32-wasi`). Figures, not
 * assertions.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmt, table } from './stats.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const child = fileURLToPath(new URL('./wasm-child.js', import.meta.url));

function measure(nativePath: string): { wasm: boolean; collectNs: number; sampleUs: number } {
  const out = execFileSync(process.execPath, ['--no-warnings', child], { encoding: 'utf8', env: { ...process.env, EXPBUF_NATIVE_PATH: nativePath } });
  return JSON.parse(out.trim().split('\n').pop() as string);
}

export function runWasmBench(): void {
  const wasmLoader = `${root}native/wasm/expbuf.wasi.cjs`;
  if (!existsSync(wasmLoader)) {
    console.log(`\nwasm: skipped, no wasm build at ${wasmLoader} (node scripts/cross.mjs wasm32-wasi makes it)`);
    return;
  }
  const native = measure('');
  const wasm = measure(wasmLoader);
  if (native.wasm || !wasm.wasm) throw new Error('the two runs did not load the builds asked for');
  table(
    'wasm32-wasi fallback against the native addon, this machine ({ obs: float32[64], action: int32, reward: float32 }; median of 15 blocks)',
    ['operation', 'native', 'wasm', 'wasm / native'],
    [
      ['per-step collect + update() every 1,000 (ns/step)', fmt(native.collectNs, 0), fmt(wasm.collectNs, 0), `${fmt(wasm.collectNs / native.collectNs, 2)}×`],
      ['sample(256) from 1,000,000 rows (µs)', fmt(native.sampleUs, 1), fmt(wasm.sampleUs, 1), `${fmt(wasm.sampleUs / native.sampleUs, 2)}×`],
    ],
  );
}
