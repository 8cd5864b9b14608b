/**
 * Keeps V8's heap near what the function really holds when nothing caps it.
 *
 * Without `--max-semi-space-size`/`--max-old-space-size` (the image sets
 * them; `deno task start` and other ways of running the bundle do not), V8
 * lets its heap grow to several times what is live before it collects: a
 * burst of 1,000 clusters peaked at 206 MiB RSS for a live heap of tens of
 * MiB. It runs in every process, the image's included: after a request,
 * when the heap has grown past its budget, it runs one full collection (a
 * few ms, after the answer went out, at most once a second); the budget
 * then becomes twice what survived (never below the one given), so a heap
 * that is really that big is not collected over and over, and one that
 * shrank again is held to it again.
 *
 * The collection is V8's own `gc`, exposed with `--expose-gc` through
 * `node:v8`'s `setFlagsFromString` to a new `node:vm` context (the flag then
 * applies to contexts made after it); both are imported the first time the
 * heap outgrows its budget, not at start.
 *
 * @module
 */

/** How the governor reads the heap and collects (injectable for tests). */
export interface HeapAccess {
  /** Bytes of heap V8 holds now (`Deno.memoryUsage().heapTotal`). */
  heapTotal: () => number;
  /** A full collection; `false` when none could run (yet). */
  collect: () => boolean;
  /** Milliseconds now. */
  now: () => number;
}

/** V8's full collection, or `undefined` when it cannot be exposed. */
export async function v8Collector(): Promise<(() => void) | undefined> {
  try {
    const { setFlagsFromString } = await import("node:v8");
    const { runInNewContext } = await import("node:vm");
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("typeof gc === 'function' ? gc : undefined");
    return typeof gc === "function" ? () => gc() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * {@linkcode HeapAccess.collect} with V8's collection, loaded the first
 * time it is asked for (that call and those until it is loaded collect
 * nothing).
 */
export function lazyV8Collector(): () => boolean {
  let loading: Promise<unknown> | undefined;
  let gc: (() => void) | undefined;
  return () => {
    if (gc) {
      gc();
      return true;
    }
    loading ??= v8Collector().then((found) => gc = found);
    return false;
  };
}

/** Least time between two collections. */
const INTERVAL_MS = 1_000;

/**
 * A function to call after each request: collects when the heap outgrew
 * `budgetBytes`. Returns whether it collected.
 */
export function heapGovernor(
  budgetBytes: number,
  access: HeapAccess,
): () => boolean {
  let budget = budgetBytes;
  let last = -Infinity;
  return () => {
    const now = access.now();
    if (access.heapTotal() <= budget || now - last < INTERVAL_MS) return false;
    if (!access.collect()) return false;
    last = now;
    budget = Math.max(budgetBytes, 2 * access.heapTotal());
    return true;
  };
}
