/**
 * `npm run bench`: prints the benchmark tables. Figures, not assertions.
 */
import { cpus } from 'node:os';
import { runParquetBench } from './parquet.js';
import { runPipelineBench } from './pipeline.js';
import { runPoolBench } from './pool.js';
import { runReplayBench } from './replay.js';
import { runStateBench } from './state.js';
import { runThreadBench } from './threads.js';
import { runWasmBench } from './wasm.js';

console.log(`expbuf bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
const only = process.argv[2];
if (only === undefined || only === 'pipeline') runPipelineBench();
if (only === undefined || only === 'threads') await runThreadBench();
if (only === undefined || only === 'state') runStateBench();
if (only === undefined || only === 'pool') await runPoolBench();
if (only === undefined || only === 'replay') runReplayBench();
if (only === undefined || only === 'parquet') await runParquetBench();
if (only === undefined || only === 'wasm') runWasmBench();
// tfjs loads only for this section.
if (only === undefined || only === 'dqn') (await import('./dqn-backends.js')).runDqnBackendBench();
