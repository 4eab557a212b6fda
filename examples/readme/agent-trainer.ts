// #region readme
import { Agent, DataUsersDict, SequentialBuffer, Trainer, type CollectorsOf, type UsersOf } from 'expbuf';

const schema = { obs: { dtype: 'float32', shape: [4] }, action: 'int32', reward: 'float32' } as const;
const buffers = { experience: new SequentialBuffer(schema, 10_000) };
type Users = UsersOf<typeof buffers>;

/** The inference side: acts, and collects what it saw. */
class RandomAgent extends Agent<Float32Array, number, CollectorsOf<Users>> {
  #collector: CollectorsOf<Users>['experience'] | undefined;
  override onDataCollectorsAttached(): void {
    this.#collector = this.getDataCollector('experience');     // once per name
  }
  step(obs: Float32Array): number {
    const action = Math.random() < 0.5 ? 0 : 1;
    this.#collector?.collect({ obs, action, reward: 1 });
    return action;
  }
}

/** The training side: trains once 64 rows are held and 16 are new. */
class CountingTrainer extends Trainer<Users> {
  batches = 0;
  constructor() {
    super({ trainingConditionDataUser: 'experience', minBufferSize: 64, minNewDataCount: 16 });
  }
  train(): void {
    const batch = this.getDataUser('experience').buffer.sample(32);   // typed: batch.obs is a Float32Array
    this.batches += batch.obs.length > 0 ? 1 : 0;
  }
}

const users = DataUsersDict.fromDataBuffers(buffers);
const agent = new RandomAgent();
const trainer = new CountingTrainer();
agent.attachDataCollectors(users.dataCollectorsDict);
trainer.attachDataUsers(users);
for (let t = 0; t < 1000; t++) {
  agent.step(Float32Array.of(t, 0, 0, 0));
  await trainer.run();                            // trains when isTrainable(), which updates its user first
}
console.log(`trained on ${trainer.batches} batches`);
// #endregion readme
