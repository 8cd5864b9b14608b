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

import { type Attributes, context, trace } from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";
import type { ClusterName, ClusterPage, KubeObject } from "../core/objects.ts";
import type { SeenObject } from "../core/observation.ts";
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

/** Pending creations taken up beside one creation's event in a burst. */
const BURST_LOOKAHEAD = 7;

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
   * One pass over the cluster `namespace/name`, reading the object its
   * event carried (`seen`: the cluster or a child) at least as new as the
   * event; `fresh`: the event or a listing showed it never reconciled (a
   * hint).
   */
  reconcile(
    namespace: string,
    name: string,
    seen?: SeenObject,
    fresh?: boolean,
  ): Promise<R>;
  /** Whether {@linkcode DispatchOptions.readObject} may read this kind. */
  readable(ref: Ref): boolean;
  /** Reads the child a Reference-mode event names (`undefined`: absent). */
  readObject(ref: Ref): Promise<KubeObject | undefined>;
  /**
   * One page of the clusters a resync visits (all, or only those never
   * reconciled: also a burst's pending creations), `limit` at most, from
   * `continueFrom` (the token of the page before), at least as new as
   * `notOlderThan` (a cluster's version, without a token) when given, else
   * the latest; the token of the next page, if there is one.
   */
  listClusterPage(
    page: {
      limit: number;
      continueFrom?: string;
      pendingOnly: boolean;
      notOlderThan?: string;
    },
  ): Promise<ClusterPage>;
  /** Clusters reconciled at once during a resync (default 4). */
  resyncConcurrency?: number;
  /** Time a resync may take before it stops starting new passes (default 240 s). */
  resyncBudgetMs?: number;
  /** Clusters listed per page by a resync (default 500). */
  resyncPageSize?: number;
  /** Exports the spans made so far (after each page of a resync). */
  flush?: () => Promise<unknown>;
  /** The clock, in milliseconds (tests). */
  now?: () => number;
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

/** `namespace/name`: how clusters are keyed and ordered. */
const keyOf = ({ namespace, name }: ClusterName) => `${namespace}/${name}`;

/** A listing's continue token expired (410): list again from the start. */
export class ExpiredPageError extends Error {}

/**
 * The dispatcher: turns the work of one event into passes; `abandoned`
 * gives a signal that stops a resync between passes (the request was
 * abandoned). Only a resync asks for it.
 */
export type Dispatcher = (
  work: Work,
  abandoned?: () => AbortSignal,
) => Promise<Dispatched>;

/** Keys a resync's answer lists at most (it counts them all). */
const ANSWER_KEYS = 20;

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
    seen?: SeenObject,
    fresh = false,
  ): Promise<R> => {
    const key = keyOf({ namespace, name });
    try {
      const result = await options.reconcile(namespace, name, seen, fresh);
      if (result.versions) echoes.record(key, result.versions);
      else echoes.forget(key);
      return result;
    } catch (error) {
      echoes.forget(key);
      throw error;
    }
  };
  const reconcileOne = ({ namespace, name }: ClusterName, fresh: boolean) =>
    serializer.run(
      keyOf({ namespace, name }),
      () => pass(namespace, name, undefined, fresh),
    );
  /**
   * {@linkcode reconcileOne} in a span of its own, its failure recorded
   * there (a burst's pending creations, a resync's clusters); `untraced`:
   * the API calls inside make no spans; `fresh`: listed as never reconciled.
   */
  const spannedPass = (
    cluster: ClusterName,
    attributes: Attributes,
    { untraced = false, fresh = false } = {},
  ): Promise<R> =>
    tracer.startActiveSpan("reconcile", { attributes }, async (span) => {
      try {
        return await (untraced
          ? context.with(
            suppressTracing(context.active()),
            () => reconcileOne(cluster, fresh),
          )
          : reconcileOne(cluster, fresh));
      } catch (error) {
        recordFailure(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  /** A pass — or nothing at all for an echo of the cluster's last pass. */
  const reconcileEvent = (
    namespace: string,
    name: string,
    object: EventObject | undefined,
  ): Promise<R | PassResult & { outcome: "echo" }> => {
    const key = keyOf({ namespace, name });
    type Answer = R | PassResult & { outcome: "echo" };
    return serializer.run<Answer>(
      key,
      (): Promise<Answer> =>
        object && !object.deleted && echoes.isEcho(key, object)
          ? Promise.resolve({ key, outcome: "echo" as const, writes: [] })
          : pass(
            namespace,
            name,
            object && {
              key: object.key,
              resourceVersion: object.resourceVersion,
            },
            object?.fresh,
          ),
    );
  };

  // a burst: creations arrive one event at a time (the adapter waits for
  // each answer); beside the event of one, the next few pending ones are
  // reconciled too, so their own events find echoes
  let lastFresh = -Infinity;
  let lookingAhead = false;
  async function takeUpBurst(
    key: string,
    notOlderThan: string,
  ): Promise<string[]> {
    const now = (options.now ?? Date.now)();
    const burst = now - lastFresh < BURST_WINDOW_MS;
    lastFresh = now;
    if (!burst || lookingAhead) return [];
    lookingAhead = true;
    try {
      // as new as the creation's event, not the latest: the latest waits
      // for the clusters' watch cache to catch up with writes of every
      // other kind (~40 ms, measured), in front of this event's answer
      const pending = (await options.listClusterPage({
        limit: BURST_LOOKAHEAD * 2,
        pendingOnly: true,
        notOlderThan,
      })).items
        .filter((c) => keyOf(c) !== key && !serializer.busy(keyOf(c)))
        .slice(0, BURST_LOOKAHEAD);
      await Promise.all(
        pending.map((cluster) =>
          spannedPass(cluster, { "mysql.via": "a burst's pending creation" }, {
            fresh: true,
          })
            // its own event, or the resync, takes it up again
            .catch(() => {})
        ),
      );
      return pending.map(keyOf);
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

  // where the last resync that ran out of time stopped: the next one
  // starts after it and comes round to it, so no tail is always skipped
  let resumeAfter: string | undefined;

  /**
   * A resync, page by page (memory stays one page), a bounded pool of
   * passes, each with its own span (the API calls inside are not traced:
   * a span per cluster keeps 10,000 clusters' trace readable), until every
   * cluster was visited, the time budget is spent, or the request is
   * abandoned.
   */
  async function resync(
    scope: "all" | "pending",
    abandoned: (() => AbortSignal) | undefined,
  ): Promise<Record<string, unknown>> {
    const now = options.now ?? Date.now;
    const deadline = now() + (options.resyncBudgetMs ?? 240_000);
    const pageSize = options.resyncPageSize ?? 500;
    const signal = abandoned?.();
    const start = scope === "all" ? resumeAfter : undefined;
    const counts = { listed: 0, done: 0, changed: 0, failed: 0 };
    const changed: string[] = [];
    const failed: { key: string; error: string }[] = [];
    let stopped: "budget" | "aborted" | undefined;
    // the last key of the current lap up to which every cluster was done
    let cursor: string | undefined;
    const out = () => {
      if (signal?.aborted) stopped = "aborted";
      else if (now() > deadline) stopped = "budget";
      return stopped !== undefined;
    };
    const visit = async (cluster: ClusterName) => {
      try {
        const result = await spannedPass(cluster, {}, {
          untraced: true,
          fresh: scope === "pending",
        });
        counts.done++;
        if (result.writes.length > 0) {
          counts.changed++;
          if (changed.length < ANSWER_KEYS) changed.push(keyOf(cluster));
        }
      } catch (error) {
        counts.failed++;
        if (failed.length < ANSWER_KEYS) {
          failed.push({
            key: keyOf(cluster),
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    };
    // from `start` to the end, then from the beginning round to `start`
    for (const lap of start === undefined ? [1] : [1, 2]) {
      let continueFrom: string | undefined;
      let skipUpTo = lap === 1 ? start : undefined;
      cursor = undefined;
      while (!out()) {
        let page: ClusterPage;
        try {
          page = await options.listClusterPage({
            limit: pageSize,
            pendingOnly: scope === "pending",
            ...(continueFrom ? { continueFrom } : {}),
          });
        } catch (error) {
          if (!(error instanceof ExpiredPageError) || !continueFrom) {
            throw error;
          }
          // the token outlived etcd's history: list again, past what is done
          continueFrom = undefined;
          skipUpTo = cursor ?? skipUpTo;
          continue;
        }
        continueFrom = page.continueFrom;
        const items = page.items.filter((item) => {
          const key = keyOf(item);
          if (skipUpTo !== undefined && key <= skipUpTo) return false;
          return lap === 1 || key <= start!;
        });
        counts.listed += items.length;
        let next = 0;
        await Promise.all(
          Array.from({ length: options.resyncConcurrency ?? 4 }, async () => {
            while (next < items.length && !out()) await visit(items[next++]!);
          }),
        );
        await options.flush?.();
        // the workers take items in order: what was taken is a done prefix
        const tail = next === items.length
          ? page.items.at(-1)
          : items[next - 1];
        if (tail && (cursor === undefined || keyOf(tail) > cursor)) {
          cursor = keyOf(tail);
        }
        if (stopped || continueFrom === undefined) break;
        // past `start` on the second lap: the round is complete
        if (lap === 2 && cursor !== undefined && cursor >= start!) break;
      }
      if (stopped) break;
    }
    const stoppedAt = stopped ? cursor ?? start : undefined;
    if (scope === "all") resumeAfter = stoppedAt;
    return {
      outcome: "resynced",
      scope,
      total: counts.listed,
      done: counts.done,
      changed,
      changedCount: counts.changed,
      failed,
      failedCount: counts.failed,
      skipped: counts.listed - counts.done - counts.failed,
      ...(stopped ? { stopped, resumeAfter: stoppedAt ?? null } : {}),
    };
  }

  return async (
    work: Work,
    abandoned?: () => AbortSignal,
  ): Promise<Dispatched> => {
    const span = trace.getActiveSpan();
    let key: string | undefined;
    try {
      const resolved = work.kind === "find-owner"
        ? await findOwner(work.child)
        : work;
      switch (resolved.kind) {
        case "resync":
          span?.updateName("resync");
          return {
            ok: true,
            kind: "resync",
            answer: await resync(resolved.scope, abandoned),
          };
        case "ignore":
          span?.updateName("ignore");
          return {
            ok: true,
            kind: "ignore",
            answer: { outcome: "ignored", reason: resolved.reason },
          };
        case "reconcile": {
          key = keyOf(resolved);
          span?.updateName("reconcile");
          span?.setAttribute("mysql.via", resolved.via);
          const [result, alongside] = await Promise.all([
            reconcileEvent(resolved.namespace, resolved.name, resolved.object),
            resolved.object?.fresh
              ? takeUpBurst(key, resolved.object.resourceVersion)
              : Promise.resolve([]),
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
