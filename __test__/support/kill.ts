import { spawn } from 'node:child_process';

/**
 * Runs `node script ...args` for `ms`, then SIGKILLs it. Resolves with the last number
 * its stdout reported through `pattern` (one capture group), or `initial`; rejects if
 * the child exited by itself.
 */
export function runUntilKilled(script: string, args: string[], ms: number, pattern: RegExp, initial: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = initial;
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      for (const m of s.matchAll(pattern)) last = Number(m[1]);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`${script} exited by itself (${code}): ${err}`));
      else resolve(last);
    });
  });
}
