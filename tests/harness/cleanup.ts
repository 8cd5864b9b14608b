/**
 * Teardown that also runs when the process is interrupted: every started
 * component registers its stop function here; SIGINT, SIGTERM or SIGHUP run
 * them all before the process exits. (Child processes additionally die with
 * this process through the kernel's parent-death signal, see `process.ts`.)
 *
 * @module
 */

type Cleanup = () => Promise<void>;

const cleanups = new Set<Cleanup>();
const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
let exiting = false;

async function onSignal(): Promise<void> {
  if (exiting) return;
  exiting = true;
  await runAllCleanups();
  Deno.exit(130);
}

/** Runs every registered cleanup (most recent first), ignoring their errors. */
export async function runAllCleanups(): Promise<void> {
  for (const cleanup of [...cleanups].reverse()) {
    await cleanup().catch(() => {});
  }
}

/**
 * Registers `cleanup` to run on interruption; returns a function that
 * unregisters it. Signal listeners exist only while something is registered.
 */
export function registerCleanup(cleanup: Cleanup): () => void {
  if (cleanups.size === 0) {
    for (const signal of SIGNALS) Deno.addSignalListener(signal, onSignal);
  }
  cleanups.add(cleanup);
  return () => {
    if (!cleanups.delete(cleanup) || cleanups.size > 0) return;
    for (const signal of SIGNALS) Deno.removeSignalListener(signal, onSignal);
  };
}
