import { ExpbufError } from './errors.js';
import type { DataCollector } from './pipeline/collector.js';
import type { DataCollectorsDict } from './pipeline/dicts.js';

/**
 * The inference side of a learning system, as pamiq-core's `Agent`: `step` maps an
 * observation to an action and collects experience through acquired collectors.
 *
 * @typeParam Obs - what `step` observes
 * @typeParam Act - what it returns
 * @typeParam C - the collectors by name (their step types), as the dict it is given has them
 */
export abstract class Agent<Obs, Act, C extends Record<string, DataCollector<object>> = Record<string, DataCollector<object>>> {
  #collectors: DataCollectorsDict<C> | undefined;

  /** Decides the action for `observation`. */
  abstract step(observation: Obs): Act;

  /** Gives the agent its collectors, then calls `onDataCollectorsAttached`. */
  attachDataCollectors(dict: DataCollectorsDict<C>): void {
    this.#collectors = dict;
    this.onDataCollectorsAttached();
  }

  /** Hook: acquire collectors here with `getDataCollector`. */
  onDataCollectorsAttached(): void {}

  /**
   * Acquires the collector `name`.
   * @throws `EXPBUF_NOT_FOUND` (unknown name, or no collectors attached), `EXPBUF_ALREADY_ACQUIRED`
   */
  getDataCollector<K extends keyof C & string>(name: K): C[K] {
    if (this.#collectors === undefined) {
      throw new ExpbufError('EXPBUF_NOT_FOUND', `name: no data collectors attached (asked for '${name}')`);
    }
    return this.#collectors.acquire(name);
  }
}
