/**
 * Choosing the tfjs backend of the trainer. Both come from npm with nothing to download
 * at install or run time: `cpu` (pure JS, part of `@tensorflow/tfjs`) and `wasm`
 * (`@tensorflow/tfjs-backend-wasm`, whose .wasm binaries ship inside the package; XNNPACK
 * kernels, with SIMD where the runtime has it). bench/dqn-backends.ts times the main job's
 * training step on each; `wasm` with SIMD was the fastest here, so it is the default.
 *
 * Threads: the WASM backend's threaded build needs Web Workers made from Blob URLs, which
 * Node's worker_threads cannot run, so tfjs reports no thread support on Node
 * (`WASM_HAS_MULTITHREAD_SUPPORT` is false there) and runs XNNPACK on one thread.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

export const BACKENDS = ['wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendChoice {
  /** WASM only: use the SIMD binary when the runtime supports it (default true). */
  simd?: boolean;
  /** WASM only: ask for the threaded binary even on Node (for measuring; it fails there). */
  forceThreads?: boolean;
}

export function isBackendName(name: string): name is BackendName {
  return (BACKENDS as readonly string[]).includes(name);
}

/** Activates `name` and resolves to a description for the log, e.g. `wasm (SIMD, 1 thread)`. */
export async function useBackend(name: BackendName, choice: BackendChoice = {}): Promise<string> {
  if (name === 'wasm') {
    // The .wasm files sit beside the package's Node entry point.
    setWasmPaths(`${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`);
    if (choice.simd === false) tf.env().set('WASM_HAS_SIMD_SUPPORT', false);
    if (choice.forceThreads === true) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  }
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend ${name} failed to start`);
  if (name === 'cpu') return 'cpu (pure JS)';
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'threaded' : '1 thread'})`;
}
