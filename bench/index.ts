/**
 * `npm run bench`: prints the benchmark tables. Figures, not assertions.
 */
import { cpus } from 'node:os';
import { runPipelineBench } from './pipeline.js';

console.log(`expbuf bench — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
runPipelineBench();
