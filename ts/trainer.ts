import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataBuffer } from './buffers/data-buffer.js';
import { now } from './clock.js';
import { ExpbufError, invalid } from './errors.js';
import type { DataUsersDict } from './pipeline/dicts.js';
import type { DataUser } from './pipeline/user.js';
import { native } from './native/binding.js';
import { writeFileDurably } from './state.js';

type AnyUser = DataUser<DataBuffer<object, unknown>>;

export interface TrainerOptions {
  /** Name of the data user whose size and new rows decide `isTrainable()`. */
  trainingConditionDataUser?: string;
  /** Rows that user's buffer must hold before training (default 0). */
  minBufferSize?: number;
  /** Rows collected since the last training start needed to train again (default 0). */
  minNewDataCount?: number;
}

const OPTIONS = ['trainingConditionDataUser', 'minBufferSize', 'minNewDataCount'] as const;

function count(value: unknown, name: string): number {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0)) {
    throw invalid(`options.${name}: ${String(value)} is not a non-negative integer`);
  }
  return value;
}

/**
 * The training side, as pamiq-core's `Trainer`: `run()` trains when `isTrainable()`
 * says enough data has arrived.
 *
 * @typeParam U - the data users by name (their buffer types), as the dict it is given has them
 */
export abstract class Trainer<U extends Record<string, AnyUser> = Record<string, AnyUser>> {
  readonly #conditionName: string | undefined;
  readonly minBufferSize: number;
  readonly minNewDataCount: number;
  #users: DataUsersDict<U> | undefined;
  #conditionUser: AnyUser | undefined;
  /** Start time of the last training (ms since the epoch); `-Infinity` before the first. */
  #previousTrainingTime = -Infinity;

  /** @throws `EXPBUF_INVALID_ARGUMENT` for negative or fractional counts, or counts without a condition user */
  constructor(options: TrainerOptions = {}) {
    native.checkOptions(options, 'options', OPTIONS);
    if (options.trainingConditionDataUser !== undefined && typeof options.trainingConditionDataUser !== 'string') {
      throw invalid('options.trainingConditionDataUser: expected a name');
    }
    this.#conditionName = options.trainingConditionDataUser;
    this.minBufferSize = count(options.minBufferSize ?? 0, 'minBufferSize');
    this.minNewDataCount = count(options.minNewDataCount ?? 0, 'minNewDataCount');
    if (this.#conditionName === undefined && (this.minBufferSize > 0 || this.minNewDataCount > 0)) {
      throw invalid('options.trainingConditionDataUser: required when minBufferSize or minNewDataCount is set');
    }
  }

  /** One training pass. */
  abstract train(): void | Promise<void>;

  /** Gives the trainer its data users, then calls `onDataUsersAttached`. */
  attachDataUsers(dict: DataUsersDict<U>): void {
    this.#users = dict;
    this.#conditionUser = this.#conditionName === undefined ? undefined : this.getDataUser(this.#conditionName as keyof U & string);
    this.onDataUsersAttached();
  }

  /** Hook: fetch data users here with `getDataUser`. */
  onDataUsersAttached(): void {}

  /**
   * The data user `name`.
   * @throws `EXPBUF_NOT_FOUND` for an unknown name or when no users are attached
   */
  getDataUser<K extends keyof U & string>(name: K): U[K] {
    const user = this.#users?.get(name);
    if (user === undefined) {
      const have = this.#users ? [...this.#users.keys()].join(', ') || 'none' : 'none attached';
      throw new ExpbufError('EXPBUF_NOT_FOUND', `name: no data user '${name}' (have ${have})`);
    }
    return user;
  }

  /**
   * Updates the condition user, then checks that its buffer holds `minBufferSize` rows
   * and that `minNewDataCount` rows were collected since the last training started.
   */
  isTrainable(): boolean {
    const user = this.#conditionUser;
    if (user === undefined) return true;
    user.update();
    return user.size >= this.minBufferSize && user.countDataAddedSince(this.#previousTrainingTime) >= this.minNewDataCount;
  }

  /** Hook before each training pass. */
  setup(): void {}

  /** Hook after each training pass. */
  teardown(): void {}

  /**
   * Saves the trainer's own state into `dir` (`trainer.json`: the last training start,
   * which `isTrainable` counts new rows from), atomically and durably. Subclasses that
   * hold models extend it and call `super.saveState(dir)`.
   * @throws `EXPBUF_IO` when the file system fails
   */
  async saveState(dir: string): Promise<void> {
    const t = this.#previousTrainingTime;
    await writeFileDurably(join(dir, 'trainer.json'), JSON.stringify({ previousTrainingTime: Number.isFinite(t) ? t : null }));
  }

  /**
   * Restores what `saveState` wrote.
   * @throws `EXPBUF_CORRUPT_STATE` naming `trainer.json`
   */
  async loadState(dir: string): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(join(dir, 'trainer.json'), 'utf8'));
    } catch (e) {
      throw new ExpbufError('EXPBUF_CORRUPT_STATE', `trainer.json: missing or not JSON (${(e as Error).message})`, { cause: e });
    }
    const t = (parsed as { previousTrainingTime?: unknown } | null)?.previousTrainingTime;
    if (t !== null && typeof t !== 'number') throw new ExpbufError('EXPBUF_CORRUPT_STATE', 'trainer.json: previousTrainingTime is not a number');
    this.#previousTrainingTime = t ?? -Infinity;
  }

  /** Trains once if trainable; resolves to whether it did. */
  async run(): Promise<boolean> {
    if (!this.isTrainable()) return false;
    this.#previousTrainingTime = now();
    this.setup();
    try {
      await this.train();
    } finally {
      this.teardown();
    }
    return true;
  }
}
