/**
 * Waiting for a batch of concurrent calls to settle before going on, so a
 * failure never leaves others of the same batch running unobserved (the
 * per-cluster lock is released only once every call of a pass is done).
 *
 * @module
 */

/**
 * Runs `tasks` concurrently and waits until every one has settled; then
 * throws the first failure (in task order), or returns the results.
 *
 * @example
 * ```ts
 * const [a, b] = await settleAll([() => fetchA(), () => fetchB()]);
 * ```
 */
export async function settleAll<T>(
  tasks: readonly (() => Promise<T>)[],
): Promise<T[]> {
  const results = await Promise.allSettled(tasks.map((task) => task()));
  const failed = results.find((r): r is PromiseRejectedResult =>
    r.status === "rejected"
  );
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
