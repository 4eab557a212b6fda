import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { now } from './clock.js';
import { ExpbufError } from './errors.js';
import type { DataUsersDict } from './pipeline/dicts.js';
import type { DataUser } from './pipeline/user.js';

export interface TrainerOptions {
  /** Name of the data user whose size and new rows decide `isTrainable()`. */
  trainingConditionDataUser?: string;
  /** Rows that user's buffer must hold before training (default 0). */
  minBufferSize?: number;
  /** Rows collected since the last training start needed to train again (default 0). */
  minNewDataCount?: number;
}

function count(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 0)) {
    throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', `${name}: ${value} is not a non-negative integer`);
  }
  return value;
}

/**
 * The training side, as pamiq-core's `Trainer`: `run()` trains when `isTrainable()`
 * says enough data has arrived.
 */
export abstract class Trainer {
  readonly #conditionName: string | undefined;
  readonly minBufferSize: number;
  readonly minNewDataCount: number;
  #users: DataUsersDict | undefined;
  #conditionUser: DataUser<object, unknown> | undefined;
  /** Start time of the last training (ms since the epoch); `-Infinity` before the first. */
  #previousTrainingTime = -Infinity;

  /** @throws `EXPBUF_INVALID_ARGUMENT` for negative or fractional counts, or counts without a condition user */
  constructor(options: TrainerOptions = {}) {
    this.#conditionName = options.trainingConditionDataUser;
    this.minBufferSize = count(options.minBufferSize ?? 0, 'minBufferSize');
    this.minNewDataCount = count(options.minNewDataCount ?? 0, 'minNewDataCount');
    if (this.#conditionName === undefined && (this.minBufferSize > 0 || this.minNewDataCount > 0)) {
      throw new ExpbufError('EXPBUF_INVALID_ARGUMENT', 'trainingConditionDataUser: required when minBufferSize or minNewDataCount is set');
    }
  }

  /** One training pass. */
  abstract train(): void | Promise<void>;

  /** Gives the trainer its data users, then calls `onDataUsersAttached`. */
  attachDataUsers(dict: DataUsersDict): void {
    this.#users = dict;
    this.#conditionUser = this.#conditionName === undefined ? undefined : this.getDataUser(this.#conditionName);
    this.onDataUsersAttached();
  }

  /** Hook: fetch data users here with `getDataUser`. */
  onDataUsersAttached(): void {}

  /**
   * The data user `name`.
   * @throws `EXPBUF_NOT_FOUND` for an unknown name or when no users are attached
   */
  getDataUser<T extends object = Record<string, unknown>, R = unknown>(name: string): DataUser<T, R> {
    const user = this.#users?.get(name);
    if (user === undefined) {
      const have = this.#users ? [...this.#users.keys()].join(', ') || 'none' : 'none attached';
      throw new ExpbufError('EXPBUF_NOT_FOUND', `name: no data user '${name}' (have ${have})`);
    }
    return user as unknown as DataUser<T, R>;
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
   * which `isTrainable` counts new rows from). Subclasses that hold models extend it
   * and call `super.saveState(dir)`.
   */
  async saveState(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const t = this.#previousTrainingTime;
    const tmp = join(dir, 'trainer.json.tmp');
    await writeFile(tmp, JSON.stringify({ previousTrainingTime: Number.isFinite(t) ? t : null }));
    await rename(tmp, join(dir, 'trainer.json'));
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
