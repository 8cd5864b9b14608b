/**
 * Runs work for the same key one at a time, in arrival order, while work
 * for different keys runs concurrently. Two events for one cluster (its own
 * update and its StatefulSet's, or a resync) never reconcile it at once.
 *
 * @module
 */

/** Serializes async work per key. */
export class KeySerializer {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `work` once every earlier work of `key` has settled. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(() => {}, () => {});
    this.#tails.set(key, tail);
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** True when work of `key` is running or waiting. */
  busy(key: string): boolean {
    return this.#tails.has(key);
  }

  /** Keys with work running or waiting (for tests and diagnostics). */
  get busyKeys(): number {
    return this.#tails.size;
  }
}
