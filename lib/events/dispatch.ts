/**
 * From the work an event asks for to the passes that do it: the owner of a
 * child named by a Reference-mode event, the resync's fan-out over every
 * cluster (a bounded pool, a time budget, a span per cluster), one pass
 * per cluster at a time (events for the same cluster from both sources or
 * a resync queue behind each other), and no pass at all for an echo of a
 * cluster's last pass (see `echoes.ts`). Transport-free: the
 * HTTP handler turns what it returns into an answer.
 *
 * @module
 */

import { trace } from "@opentelemetry/api";
import type { KubeObject } from "../core/objects.ts";
import { INSTRUMENTATION_NAME } from "../telemetry/config.ts";
import { recordFailure } from "../telemetry/spans.ts";
import {
  controllingCluster,
  type EventObject,
  type Ref,
  type Work,
} from "./cloud_events.ts";
import { EchoRecord } from "./echoes.ts";
import { KeySerializer } from "./key_serializer.ts";

const tracer = trace.getTracer(INSTRUMENTATION_NAME);

/** Two creations' events this close together make a burst. */
const BURST_WINDOW_MS = 2_000;

/** What one pass reports (the part the dispatcher reads). */
export interface PassResult {
  /** `namespace/name` of the cluster. */
  key: string;
  /** The writes it made. */
  writes: string[];
  /**
   * The resourceVersions the pass read or left its objects at, by
   * `Kind/name`; none when the cluster is gone.
   */
  versions?: Readonly<Record<string, readonly string[]>>;
}

/** What the dispatcher needs: the pass, and the two reads it makes itself. */
export interface DispatchOptions<R extends PassResult> {
  /**
   * One pass over the cluster `namespace/name`, reading it at least as new
   * as `notOlderThan` (the version the event carried) when given.
   */
  reconcile(namespace: string, name: string, notOlderThan?: string): Promise<R>;
  /** Whether {@linkcode DispatchOptions.readObject} may read this kind. */
  readable(ref: Ref): boolean;
  /** Reads the child a Reference-mode event names (`undefined`: absent). */
  readObject(ref: Ref): Promise<KubeObject | undefined>;
  /** Every cluster the resync visits. */
  listClusters(): Promise<{ namespace: string; name: string }[]>;
  /**
   * Up to `limit` clusters never reconciled yet — a burst's pending
   * creations, taken up together with the event of one of them.
   */
  listUnreconciled?(
    limit: number,
  ): Promise<{ namespace: string; name: string }[]>;
  /** Pending creations taken up beside one creation's event in a burst (default 7). */
  burstLookahead?: number;
  /** Clusters reconciled at once during a resync (default 4). */
  resyncConcurrency?: number;
  /** Time a resync may take before it stops starting new passes (default 240 s). */
  resyncBudgetMs?: number;
}

/** What handling one event came to. */
export type Dispatched =
  | {
    ok: true;
    kind: "reconcile" | "resync" | "ignore";
    /** The cluster, for a reconcile. */
    key?: string;
    /** The answer's fields. */
    answer: Record<string, unknown>;
  }
  | {
    ok: false;
    /** The cluster, when the failure belongs to one. */
    key?: string;
    error: unknown;
  };

/** The dispatcher: turns the work of one event into passes. */
export type Dispatcher = (work: Work) => Promise<Dispatched>;

/** Creates a dispatcher over `options`. */
export function createDispatcher<R extends PassResult>(
  options: DispatchOptions<R>,
): Dispatcher {
  // one pass per cluster at a time, in arrival order
  const serializer = new KeySerializer();
  const echoes = new EchoRecord();
  const pass = async (
    namespace: string,
    name: string,
    notOlderThan?: string,
  ): Promise<R> => {
    const key = `${namespace}/${name}`;
    try {
      const result = await options.reconcile(namespace, name, notOlderThan);
      if (result.versions) echoes.record(key, result.versions);
      else echoes.forget(key);
      return result;
    } catch (error) {
      echoes.forget(key);
      throw error;
    }
  };
  const reconcileOne = (namespace: string, name: string) =>
    serializer.run(`${namespace}/${name}`, () => pass(namespace, name));
  /** A pass — or nothing at all for an echo of the cluster's last pass. */
  const reconcileEvent = (
    namespace: string,
    name: string,
    object: EventObject | undefined,
  ): Promise<R | PassResult & { outcome: "echo" }> => {
    const key = `${namespace}/${name}`;
    type Answer = R | PassResult & { outcome: "echo" };
    return serializer.run<Answer>(
      key,
      (): Promise<Answer> =>
        object && echoes.isEcho(key, object)
          ? Promise.resolve({ key, outcome: "echo" as const, writes: [] })
          : pass(namespace, name, object?.resourceVersion),
    );
  };

  // a burst: creations arrive one event at a time (the adapter waits for
  // each answer); beside the event of one, the next few pending ones are
  // reconciled too, so their own events find echoes
  let lastFresh = -Infinity;
  let lookingAhead = false;
  async function takeUpBurst(key: string): Promise<string[]> {
    const now = Date.now();
    const burst = now - lastFresh < BURST_WINDOW_MS;
    lastFresh = now;
    const limit = options.burstLookahead ?? 7;
    if (!burst || lookingAhead || !options.listUnreconciled || limit <= 0) {
      return [];
    }
    lookingAhead = true;
    try {
      const pending = (await options.listUnreconciled(limit * 2))
        .filter((c) => {
          const other = `${c.namespace}/${c.name}`;
          return other !== key && !serializer.busy(other);
        })
        .slice(0, limit);
      await Promise.all(
        pending.map(({ namespace, name }) =>
          tracer.startActiveSpan("reconcile", async (span) => {
            span.setAttribute("mysql.via", "a burst's pending creation");
            try {
              await reconcileOne(namespace, name);
            } catch (error) {
              // its own event, or the resync, takes it up again
              recordFailure(span, error);
            } finally {
              span.end();
            }
          })
        ),
      );
      return pending.map((c) => `${c.namespace}/${c.name}`);
    } catch {
      return []; // the list failed: only the event's own cluster then
    } finally {
      lookingAhead = false;
    }
  }

  async function findOwner(
    child: Ref,
  ): Promise<Exclude<Work, { kind: "find-owner" }>> {
    if (!options.readable(child)) {
      return {
        kind: "ignore",
        reason: `kind ${child.kind} is not one the operator manages`,
      };
    }
    const object = await options.readObject(child);
    const owner = object ? controllingCluster(object) : undefined;
    return owner
      ? {
        kind: "reconcile",
        namespace: child.namespace,
        name: owner,
        via: `${child.kind} ${child.namespace}/${child.name}`,
      }
      : {
        kind: "ignore",
        reason:
          `${child.kind} ${child.namespace}/${child.name} is not controlled by a MySQLCluster`,
      };
  }

  async function resync(): Promise<Record<string, unknown>> {
    const clusters = await options.listClusters();
    const deadline = Date.now() + (options.resyncBudgetMs ?? 240_000);
    const queue = [...clusters];
    const results: R[] = [];
    const failed: { key: string; error: string }[] = [];
    const worker = async () => {
      while (queue.length > 0 && Date.now() <= deadline) {
        const { namespace, name } = queue.shift()!;
        await tracer.startActiveSpan("reconcile", async (span) => {
          try {
            results.push(await reconcileOne(namespace, name));
          } catch (error) {
            recordFailure(span, error);
            failed.push({
              key: `${namespace}/${name}`,
              error: String((error as Error).message ?? error),
            });
          } finally {
            span.end();
          }
        });
      }
    };
    await Promise.all(
      Array.from({ length: options.resyncConcurrency ?? 4 }, worker),
    );
    return {
      outcome: "resynced",
      total: clusters.length,
      done: results.length,
      changed: results.filter((r) => r.writes.length > 0).map((r) => r.key),
      failed,
      skipped: queue.length,
    };
  }

  return async (work: Work): Promise<Dispatched> => {
    const span = trace.getActiveSpan();
    let key: string | undefined;
    try {
      const resolved = work.kind === "find-owner"
        ? await findOwner(work.child)
        : work;
      switch (resolved.kind) {
        case "resync":
          span?.updateName("resync");
          return { ok: true, kind: "resync", answer: await resync() };
        case "ignore":
          span?.updateName("ignore");
          return {
            ok: true,
            kind: "ignore",
            answer: { outcome: "ignored", reason: resolved.reason },
          };
        case "reconcile": {
          key = `${resolved.namespace}/${resolved.name}`;
          span?.updateName("reconcile");
          span?.setAttribute("mysql.via", resolved.via);
          const [result, alongside] = await Promise.all([
            reconcileEvent(resolved.namespace, resolved.name, resolved.object),
            resolved.object?.fresh ? takeUpBurst(key) : Promise.resolve([]),
          ]);
          // the versions are the record's, not the sender's business
          const { versions: _, ...answer } = result as PassResult;
          return {
            ok: true,
            kind: "reconcile",
            key,
            answer: {
              ...answer,
              via: resolved.via,
              ...(alongside.length > 0 ? { alongside } : {}),
            },
          };
        }
      }
    } catch (error) {
      return { ok: false, ...(key ? { key } : {}), error };
    }
  };
}
