'use strict';
/**
 * The smoke suite every built binary runs before it ships (`npm run pack` and the
 * packed-install test run it per target, under qemu where the target is not this
 * machine's; scripts/cross.mjs has the targets):
 *
 *   node scripts/smoke.cjs [expbuf]     # the package to require (a path or a name; default 'expbuf')
 *
 * It collects, updates, samples with a seed, saves and loads a state, and collects from
 * a worker thread (on the wasm build, where handles do not cross threads, it checks that
 * the worker is refused with the reason), then prints one JSON line. The seeded sample's rows are part of that
 * line, so a caller compares them with the host's: the same rows on every target.
 */
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

const target = process.argv[2] ?? (isMainThread ? 'expbuf' : workerData.target);
const { DataCollector, DataUser, SequentialBuffer, expbufInfo } = require(target);
const schema = { obs: { dtype: 'float32', shape: [4] }, action: 'int32', reward: 'float64' };

if (!isMainThread) {
  let c;
  try {
    c = DataCollector.fromHandle(workerData.handle);
  } catch (e) {
    // The wasm build refuses (each thread has its own instance); the main thread checks why.
    parentPort.postMessage({ refused: { code: e.code, message: e.message } });
    process.exit(0);
  }
  for (let i = 0; i < 1000; i++) c.collect({ obs: [i, -i, i / 2, 1], action: 10_000 + i, reward: i / 4 });
  c.close();
  parentPort.postMessage({ done: true });
} else {
  main().then(
    (out) => console.log(JSON.stringify(out)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}

async function main() {
  const buffer = new SequentialBuffer(schema, 4096, { seed: 7 });
  const user = new DataUser(buffer);
  for (let i = 0; i < 100; i++) user.collector.collect({ obs: [i, i + 0.5, -i, 2], action: i, reward: i * 0.25 });
  const moved = user.update();
  const s = buffer.sample(8);
  const sample = { action: Array.from(s.action), obs: Array.from(s.obs), reward: Array.from(s.reward) };
  const rowsAgree = sample.action.every((a, k) => s.obs[4 * k] === a && s.obs[4 * k + 1] === a + 0.5 && s.reward[k] === a * 0.25);

  const dir = mkdtempSync(join(tmpdir(), 'expbuf-smoke-'));
  let stateRoundTrip = false;
  try {
    await buffer.saveState(join(dir, 'state'));
    const loaded = new SequentialBuffer(schema, 4096, { seed: 7 });
    await loaded.loadState(join(dir, 'state'));
    const a = buffer.getData();
    const b = loaded.getData();
    stateRoundTrip = loaded.size === buffer.size && ['obs', 'action', 'reward'].every((f) => a[f].every((v, i) => v === b[f][i]));
    loaded.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const w = new Worker(__filename, { workerData: { handle: user.collector.handle(), target } });
  const reply = await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await new Promise((resolve) => w.once('exit', resolve));
  const fromWorker = user.update();
  const d = buffer.getData();
  // Native: the worker's 1,000 rows arrive, in order. wasm: the handle is refused, saying why.
  let worker;
  if (expbufInfo.wasm) {
    const r = reply.refused;
    worker =
      r !== undefined && r.code === 'EXPBUF_CLOSED' && r.message.includes('WebAssembly') && fromWorker === 0
        ? 'refused, as documented for wasm'
        : `wrong: ${JSON.stringify(reply)}`;
  } else {
    let inOrder = reply.done === true && fromWorker === 1000;
    for (let i = 0; i < 1000 && inOrder; i++) inOrder = d.action[100 + i] === 10_000 + i;
    worker = inOrder ? 'rows in order' : `wrong: ${JSON.stringify(reply)}, ${fromWorker} rows`;
  }
  const workerOk = !worker.startsWith('wrong');
  user.close();
  buffer.close();
  return { ok: moved === 100 && rowsAgree && stateRoundTrip && workerOk, wasm: expbufInfo.wasm, moved, fromWorker, rowsAgree, stateRoundTrip, worker, sample };
}
