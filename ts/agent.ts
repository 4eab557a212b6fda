import { ExpbufError } from './errors.js';
import type { DataCollector } from './pipeline/collector.js';
import type { DataCollectorsDict } from './pipeline/dicts.js';

/**
 * The inference side of a learning system, as pamiq-core's `Agent`: `step` maps an
 * observation to an action and collects experience through acquired collectors.
 */
export abstract class Agent<Obs, Act> {
  #collectors: DataCollectorsDict | undefined;

  /** Decides the action for `observation`. */
  abstract step(observation: Obs): Act;

  /** Gives the agent its collectors, then calls `onDataCollectorsAttached`. */
  attachDataCollectors(dict: DataCollectorsDict): void {
    this.#collectors = dict;
    this.onDataCollectorsAttached();
  }

  /** Hook: acquire collectors here with `getDataCollector`. */
  onDataCollectorsAttached(): void {}

  /**
   * Acquires the collector `name`.
   * @throws `EXPBUF_NOT_FOUND` (unknown name, or no collectors attached), `EXPBUF_ALREADY_ACQUIRED`
   */
  getDataCollector<T extends object = Record<string, unknown>>(name: string): DataCollector<T> {
    if (this.#collectors === undefined) {
      throw new ExpbufError('EXPBUF_NOT_FOUND', `name: no data collectors attached (asked for '${name}')`);
    }
    return this.#collectors.acquire<T>(name);
  }
}
