/**
 * Child process of the crash test: a Trainer and its DataUser saved together by a
 * StateStore in argv[2], over and over. Round k collects 100 rows of value k, trains
 * once (counting it in the trainer's own state file) and saves; prints "saved k".
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataUser, DataUsersDict, SequentialBuffer, StateStore, Trainer, type UsersOf } from '../../ts/index.js';

export const roundSchema = { k: 'uint32' } as const;
type Users = UsersOf<{ rounds: SequentialBuffer<typeof roundSchema> }>;

/** Trains once per round; its count of trainings is part of its state. */
export class CountingTrainer extends Trainer<Users> {
  trained = 0;
  constructor() {
    super({ trainingConditionDataUser: 'rounds', minNewDataCount: 100 });
  }
  train(): void {
    this.trained++;
  }
  override async saveState(dir: string): Promise<void> {
    await super.saveState(dir);
    await writeFile(join(dir, 'count.json'), JSON.stringify({ trained: this.trained }));
  }
  override async loadState(dir: string): Promise<void> {
    await super.loadState(dir);
    this.trained = (JSON.parse(await readFile(join(dir, 'count.json'), 'utf8')) as { trained: number }).trained;
  }
}

/** The objects of one run, registered in a store at `dir`. */
export function setup(dir: string): { user: DataUser<SequentialBuffer<typeof roundSchema>>; trainer: CountingTrainer; store: StateStore } {
  const user = new DataUser(new SequentialBuffer(roundSchema, 1_000_000));
  const users = new DataUsersDict<Users>();
  users.set('rounds', user);
  const trainer = new CountingTrainer();
  trainer.attachDataUsers(users);
  const store = new StateStore(dir, { keep: 2 });
  store.register('user', user);
  store.register('trainer', trainer);
  return { user, trainer, store };
}

const dir = process.argv[2];
if (dir !== undefined && process.argv[1]?.endsWith('trainer-saver.js')) {
  const { user, trainer, store } = setup(dir);
  process.stdout.write('ready\n');
  for (let k = 1; ; k++) {
    for (let i = 0; i < 100; i++) user.collector.collect({ k });
    if (!(await trainer.run())) throw new Error(`round ${k}: not trainable`);
    await store.save();
    process.stdout.write(`saved ${k}\n`);
  }
}
