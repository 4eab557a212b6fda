import { spawn } from 'node:child_process';

/**
 * Runs `node script ...args` until `ms` after it printed `ready` (so a loaded machine's
 * slow start does not eat the window), then SIGKILLs it. Resolves with the last number
 * its stdout reported through `pattern` (one capture group), or `initial`; rejects if
 * the child exited by itself.
 */
export function runUntilKilled(script: string, args: string[], ms: number, pattern: RegExp, initial: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = initial;
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      if (timer === undefined && s.includes('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), ms);
      for (const m of s.matchAll(pattern)) last = Number(m[1]);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`${script} exited by itself (${code}): ${err}`));
      else resolve(last);
    });
  });
}
