/**
 * One pass over one MySQLCluster, read top-down as its story:
 *
 * 1. read the cluster as the API has it now (events are hints, never truth),
 *    and, at the same time, its children by name and its pods;
 * 2. observe the rest of what the core asks for, concurrently;
 * 3. plan — a pure function of what was observed, the time and fresh
 *    passwords: every write, the status and the Events, each with why;
 * 4. execute the plan's waves;
 * 5. trace: the active span (the request's, or one per cluster in a resync)
 *    gets the cluster's attributes and an event per write.
 *
 * @module
 */

import { trace } from "@opentelemetry/api";
import { isClusterKind } from "../core/kinds.ts";
import type { Phase } from "../core/mysql_cluster.ts";
import { childKey } from "../core/objects.ts";
import { clusterNotOlderThan, type SeenObject } from "../core/observation.ts";
import { clusterKey, plan } from "../core/plan.ts";
import { getCluster } from "../kube/api.ts";
import { RefusedError } from "../kube/errors.ts";
import type { KubeHttp } from "../kube/http.ts";
import { activeIds } from "../telemetry/trace_context.ts";
import { ClusterGoneError, execute } from "./execute.ts";
import { observe, readAhead } from "./observe.ts";

/** What a pass did. */
export interface ReconcileResult {
  /** `namespace/name`. */
  key: string;
  /**
   * `absent`: the cluster does not exist (deleted); `deleting`: it is being
   * deleted; `blocked`: an object of a child's name is someone else's.
   */
  outcome:
    | "reconciled"
    | "unchanged"
    | "invalid"
    | "blocked"
    | "absent"
    | "deleting";
  /** The writes made, e.g. `apply StatefulSet db`, `status`. */
  writes: string[];
  /** Why each write was made, by write. */
  why: Record<string, string>;
  /** The phase after the pass. */
  phase?: Phase;
  /**
   * The resourceVersions the pass read or left the cluster and its children
   * at, by `Kind/name` (what an echo of this pass carries).
   */
  versions?: Record<string, string[]>;
}

/** What a pass needs from outside besides the API. */
export interface ReconcileContext {
  /** The Kubernetes API. */
  kube: KubeHttp;
  /** Current time, RFC 3339. */
  now: () => string;
  /**
   * A fresh password. Each pass draws three for a Secret it creates only
   * if none exists (the existing one is never read or replaced).
   */
  newPassword: () => string;
}

/**
 * Reconciles the MySQLCluster `namespace/name`. `seen`: the object its
 * event carried, the cluster or a child, read at least as new as the event
 * (served from the apiserver's watch cache once it has that version); the
 * cluster is otherwise read at its latest (a quorum read), see
 * {@linkcode clusterNotOlderThan}. `fresh`: an event or a listing showed it
 * never reconciled, a hint that decides only which reads go in the first
 * round trip.
 */
export async function reconcile(
  context: ReconcileContext,
  namespace: string,
  name: string,
  seen?: SeenObject,
  fresh = false,
): Promise<ReconcileResult> {
  const { kube } = context;
  const span = trace.getActiveSpan();
  span?.setAttributes({
    "k8s.namespace.name": namespace,
    "mysql.namespace": namespace,
    "mysql.name": name,
  });

  const ahead = readAhead(kube, namespace, name, fresh, seen);
  let cluster;
  try {
    cluster = await getCluster(
      kube,
      namespace,
      name,
      clusterNotOlderThan(name, seen),
    );
  } finally {
    // the pass ends only once every request it sent has settled (a failed
    // read ahead is thrown by observe below)
    await ahead.done.catch(() => {});
  }
  if (!cluster) {
    return {
      key: `${namespace}/${name}`,
      outcome: "absent",
      writes: [],
      why: {},
    };
  }
  // what was read must be the cluster that was asked for, nothing else
  if (
    !isClusterKind(cluster.apiVersion, cluster.kind) ||
    cluster.metadata?.namespace !== namespace ||
    cluster.metadata?.name !== name
  ) {
    throw new RefusedError(
      `the object read for MySQLCluster ${namespace}/${name} is ${cluster.kind} ${cluster.metadata?.namespace}/${cluster.metadata?.name}: refused`,
    );
  }
  span?.setAttribute("mysql.generation", cluster.metadata.generation ?? 0);
  if (typeof cluster.spec?.replicas === "number") {
    span?.setAttribute("mysql.replicas", cluster.spec.replicas);
  }

  const observed = await observe(kube, cluster, ahead);
  const traceId = activeIds()?.traceId;
  const planned = plan({
    observed,
    now: context.now(),
    passwords: {
      root: context.newPassword(),
      replication: context.newPassword(),
      probe: context.newPassword(),
    },
    ...(traceId ? { traceId } : {}),
  });
  const key = clusterKey(cluster);
  if (planned.outcome === "deleting") {
    return { key, outcome: "deleting", writes: [], why: {} };
  }

  let executed;
  try {
    executed = await execute(kube, planned, span);
  } catch (error) {
    // deleted while the pass ran: nothing left to reconcile
    if (error instanceof ClusterGoneError) {
      return { key, outcome: "absent", writes: [], why: {} };
    }
    throw error;
  }
  const { done } = executed;
  span?.setAttributes({
    "mysql.phase": planned.phase ?? "",
    "mysql.writes": done.length,
  });
  // the versions this pass reconciled: what it read, and what it wrote
  const versions: Record<string, string[]> = {};
  const read = [cluster, ...observed.children.values()];
  for (const object of read) {
    const version = object.metadata?.resourceVersion;
    if (version) {
      const { kind, metadata } = object;
      versions[childKey(String(kind), String(metadata?.name))] = [version];
    }
  }
  for (const [object, version] of executed.stored) {
    versions[object] = [...(versions[object] ?? []), version];
  }
  for (const object of executed.deleted) delete versions[object];
  return {
    key,
    outcome: planned.outcome === "invalid" || planned.outcome === "blocked"
      ? planned.outcome
      : done.length > 0
      ? "reconciled"
      : "unchanged",
    writes: done.map((write) => write.summary),
    why: Object.fromEntries(done.map((write) => [write.summary, write.why])),
    versions,
    ...(planned.phase ? { phase: planned.phase } : {}),
  };
}
