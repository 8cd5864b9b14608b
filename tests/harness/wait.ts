/**
 * Waiting helpers for tests against real, eventually consistent components.
 *
 * @module
 */

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `attempt` until it resolves (returning its value) or `timeoutMs`
 * passes (rethrowing its last error, prefixed with `what`).
 */
export async function eventually<T>(
  what: string,
  attempt: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`${what}: not within ${timeoutMs} ms: ${reason}`, {
          cause: error,
        });
      }
    }
    await delay(intervalMs);
  }
}

/**
 * Calls `f` on every item of `items`, at most `k` calls at a time, in
 * order of start; resolves once all have (rejects with the first failure).
 */
export async function pool<T>(
  items: readonly T[],
  k: number,
  f: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: k }, async () => {
      while (next < items.length) await f(items[next++]!);
    }),
  );
}
