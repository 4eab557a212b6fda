/**
 * Type tests: `tsc` (part of `npm test`) compiles this file, and fails if a line marked
 * `@ts-expect-error` compiles or an unmarked line does not. Never run: it checks what
 * the types infer and refuse, across buffers, users, dicts, handles and replay.
 */
import {
  Agent,
  DataCollector,
  DataUser,
  DataUsersDict,
  ReplayBuffer,
  SequentialBuffer,
  Trainer,
  type CollectorHandle,
  type CollectorsOf,
  type ReplayBufferHandle,
  type StepOf,
  type UsersOf,
} from '../../ts/index.js';

/** Compiles only when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(ok: Equal<A, B>): Equal<A, B> => ok;

const schema = { obs: { dtype: 'float32', shape: [4] }, action: 'int32', note: 'any' } as const;

export function buffers(): void {
  const b = new SequentialBuffer(schema, 100);
  b.add({ obs: [1, 2, 3, 4], action: 1, note: { any: 'thing' } });
  // @ts-expect-error: a string where a number goes
  b.add({ obs: [1, 2, 3, 4], action: '1', note: null });
  // @ts-expect-error: a missing field
  b.add({ obs: [1, 2, 3, 4], note: null });
  // @ts-expect-error: an unknown field
  b.add({ obs: [1, 2, 3, 4], action: 1, note: null, extra: 1 });
  const d = b.sample(4);
  same<typeof d.obs, Float32Array>(true);
  same<typeof d.action, Int32Array>(true);
  same<typeof d.note, unknown[]>(true);
  // @ts-expect-error: no such column
  void d.reward;
  same<ReturnType<typeof b.get>, StepOf<typeof schema>>(true);
  for (const row of b) same<typeof row, StepOf<typeof schema>>(true);
  // sampleInto takes the typed fields' arrays only.
  b.sampleInto({ obs: new Float32Array(16), action: new Int32Array(4) });
  // @ts-expect-error: an array of another dtype
  b.sampleInto({ obs: new Float64Array(16), action: new Int32Array(4) });
  // Field names alone: every field any.
  const named = new SequentialBuffer(['a', 'b'], 10);
  named.add({ a: 1, b: 'x' });
  // @ts-expect-error: a field not named
  named.add({ a: 1, c: 2 });
}

export function users(): void {
  const user = new DataUser(new SequentialBuffer(schema, 100));
  user.collector.collect({ obs: new Float32Array(4), action: 2, note: 'n' });
  // @ts-expect-error: the collector keeps the buffer's step type
  user.collector.collect({ totally: 'wrong' });
  same<ReturnType<typeof user.buffer.sample>['obs'], Float32Array>(true);

  // Dicts and Trainer/Agent keep each buffer's types by name.
  const dict = DataUsersDict.fromDataBuffers({ exp: new SequentialBuffer(schema, 100), log: new SequentialBuffer(['msg'], 10) });
  type U = UsersOf<{ exp: SequentialBuffer<typeof schema>; log: SequentialBuffer<readonly ['msg']> }>;
  class MyTrainer extends Trainer<U> {
    train(): void {
      const s = this.getDataUser('exp').buffer.sample(4);
      same<typeof s.action, Int32Array>(true);
      // @ts-expect-error: no user of that name
      this.getDataUser('nope');
    }
  }
  class MyAgent extends Agent<Float32Array, number, CollectorsOf<U>> {
    step(observation: Float32Array): number {
      this.getDataCollector('exp').collect({ obs: observation, action: 0, note: 0 });
      // @ts-expect-error: the log collector takes { msg }
      this.getDataCollector('log').collect({ obs: observation });
      return 0;
    }
  }
  void [MyTrainer, MyAgent];
  const exp = dict.dataCollectorsDict.acquire('exp');
  // @ts-expect-error: the acquired collector keeps its step type
  exp.collect({ msg: 'x' });
}

export function handles(h: CollectorHandle<StepOf<typeof schema>>, anything: unknown): void {
  const c = DataCollector.fromHandle(h);
  c.collect({ obs: [0, 0, 0, 0], action: 0, note: 0 });
  // @ts-expect-error: the handle carries the step type through postMessage
  c.collect({ obs: [0, 0, 0, 0] });
  // A handle from untyped workerData: nothing compiles until it is given its step type.
  const untyped = DataCollector.fromHandle(anything as CollectorHandle<never>);
  // @ts-expect-error: an untyped handle's collector takes no step
  untyped.collect({ totally: 'wrong' });
}

const replaySchema = { state: { dtype: 'float32', shape: [4] }, action: 'int32', reward: 'float32', info: 'uint8' } as const;

export async function replay(h: ReplayBufferHandle<ReplayBuffer<typeof replaySchema>>): Promise<void> {
  const rb = new ReplayBuffer({ schema: replaySchema, maxSize: 100, nStep: 3, priority: {} });
  rb.add({ state: [0, 0, 0, 0], action: 1, reward: 1, info: 0, nextState: [0, 0, 0, 1], terminated: false });
  rb.add({ state: [0, 0, 0, 0], action: 1, reward: 1, info: 0, nextState: [0, 0, 0, 1], terminated: true, truncated: false, env: 3 });
  // @ts-expect-error: a step needs nextState
  rb.add({ state: [0, 0, 0, 0], action: 1, reward: 1, info: 0, terminated: false });
  // @ts-expect-error: and terminated
  rb.add({ state: [0, 0, 0, 0], action: 1, reward: 1, info: 0, nextState: [0, 0, 0, 1] });
  const b = rb.sample();
  same<typeof b.action, Int32Array>(true);
  same<typeof b.info, Uint8Array>(true);
  same<typeof b.reward, Float32Array>(true);
  same<typeof b.nextState, Float32Array>(true);
  same<typeof b.done, Uint8Array>(true);
  same<typeof b.ids, Float64Array>(true);
  const seq = rb.sampleSequences(2, 3);
  same<typeof seq.mask, Uint8Array>(true);
  const eps = rb.sampleEpisodes(2);
  same<typeof eps.finalState, Float32Array>(true);
  const later = await rb.sampleAsync(8, { timeoutMs: 10 });
  same<typeof later.weights, Float32Array>(true);
  // The user's collector takes replay steps.
  const user = new DataUser(rb);
  user.collector.collect({ state: [0, 0, 0, 0], action: 1, reward: 1, info: 0, nextState: [0, 0, 0, 1], terminated: 0 });
  // @ts-expect-error: without nextState
  user.collector.collect({ state: [0, 0, 0, 0], action: 1, reward: 1, info: 0, terminated: 0 });
  const other = ReplayBuffer.fromHandle(h);
  same<ReturnType<typeof other.sample>['info'], Uint8Array>(true);
  // @ts-expect-error: a replay schema needs typed state, action and reward
  new ReplayBuffer({ schema: { obs: 'float32', action: 'int32', reward: 'float32' }, maxSize: 10 });
  // @ts-expect-error: schema and pool exclude each other
  new ReplayBuffer({ maxSize: 10 });
}
