/**
 * No argument may make expbuf take the machine's memory: every size an argument sets
 * is bounded before anything is allocated. Each call runs in a child process, once
 * with the address space limited to 2 GiB (`ulimit -v`) and once without; the child
 * must survive and get `EXPBUF_INVALID_ARGUMENT` naming the argument.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('../dist/__test__/workers/huge.js', import.meta.url));

const cases: [string, string][] = [
  ['sample', 'batchSize'],
  ['maxSize', 'maxSize'],
  ['maxQueueSize', 'maxQueueSize'],
  ['replayMaxSize', 'options.maxSize'],
  ['replaySample', 'batchSize'],
  ['sampleSequences', 'n × length'],
  ['sampleEpisodes', 'n'],
  ['pageSize', 'pageSize'],
];

function run(name: string, limitKiB?: number): { code: string | null; message?: string; type?: string } {
  const node = `${JSON.stringify(process.execPath)} ${JSON.stringify(CHILD)} ${name}`;
  const script = limitKiB === undefined ? node : `ulimit -v ${limitKiB} && ${node}`;
  const out = execFileSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').pop() as string) as { code: string | null; message?: string; type?: string };
}

describe('sizes an argument sets are bounded before allocating', () => {
  for (const [name, argument] of cases) {
    it(`${name}: refused with EXPBUF_INVALID_ARGUMENT naming ${argument}, with and without ulimit -v`, () => {
      for (const limit of [2 * 1024 * 1024, undefined]) {
        const got = run(name, limit);
        expect(got.code).toBe('EXPBUF_INVALID_ARGUMENT');
        expect(got.type).toBe('ExpbufError');
        expect(got.message).toContain(argument);
      }
    });
  }
});
