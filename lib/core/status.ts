/**
 * A cluster's status as a pure function of the cluster, the check of its
 * spec and the observed StatefulSet. Recomputing from the same observation
 * gives the same status — `lastTransitionTime` and `lastUpdate` included —
 * so a reconcile of an unchanged cluster writes nothing (and wakes nothing).
 *
 * @module
 */

import { selectorString } from "./labels.ts";
import type {
  Condition,
  MySQLCluster,
  MySQLClusterStatus,
  Phase,
} from "./mysql_cluster.ts";
import { DEFAULTS } from "./mysql_cluster_schema.ts";
import type { Pod, StatefulSet } from "./objects.ts";
import { childNames } from "./child_names.ts";
import { primaryPod, readyReplicaPods } from "./mysql_topology.ts";
import type { SpecCheck } from "./validate.ts";

/** What the StatefulSet reports, as far as status needs it. */
interface StatefulSetView {
  generation: number;
  observedGeneration: number;
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
}

function view(statefulSet: StatefulSet): StatefulSetView {
  const status = statefulSet.status;
  return {
    generation: statefulSet.metadata?.generation ?? 0,
    observedGeneration: status?.observedGeneration ?? 0,
    replicas: status?.replicas ?? 0,
    readyReplicas: status?.readyReplicas ?? 0,
    updatedReplicas: status?.updatedReplicas ?? 0,
  };
}

interface Summary {
  phase: Phase;
  ready: Condition["status"];
  reason: string;
  message: string;
}

function summarize(
  check: SpecCheck,
  replicas: number,
  previous: Phase | undefined,
  statefulSet: StatefulSetView | undefined,
  blockers: readonly string[],
): Summary {
  if (!check.ok) {
    return {
      phase: "Invalid",
      ready: "False",
      reason: "InvalidSpec",
      message: check.problems.join("; "),
    };
  }
  if (blockers.length > 0) {
    return {
      phase: "Blocked",
      ready: "False",
      reason: "ChildConflict",
      message: `${
        blockers.join("; ")
      }; nothing was changed: remove or rename what blocks it, or give the cluster another name`,
    };
  }
  if (!statefulSet) {
    return {
      phase: "Pending",
      ready: "False",
      reason: "StatefulSetNotFound",
      message: "the StatefulSet has not been created yet",
    };
  }
  const ready = statefulSet.readyReplicas;
  const rolledOut = statefulSet.observedGeneration >= statefulSet.generation &&
    statefulSet.replicas >= replicas && statefulSet.updatedReplicas >= replicas;
  if (replicas === 0) {
    return {
      phase: "Stopped",
      ready: "False",
      reason: "ScaledToZero",
      message: "replicas is 0: no MySQL pod runs; the data volumes are kept",
    };
  }
  const counts = `${ready}/${replicas} replicas ready`;
  if (rolledOut && ready >= replicas) {
    return {
      phase: "Ready",
      ready: "True",
      reason: "AllReplicasReady",
      message: counts,
    };
  }
  if (rolledOut && (previous === "Ready" || previous === "Degraded")) {
    return {
      phase: "Degraded",
      ready: "False",
      reason: "ReplicasNotReady",
      message: counts,
    };
  }
  return {
    phase: "Provisioning",
    ready: "False",
    reason: rolledOut ? "ReplicasNotReady" : "RollingOut",
    message: rolledOut
      ? counts
      : `${counts}, ${statefulSet.updatedReplicas}/${replicas} up to date`,
  };
}

/** What else decides a status besides the cluster and what was observed. */
export interface StatusExtra {
  /** Objects of children's names that belong to someone else: phase Blocked. */
  blockers?: readonly string[];
  /** The trace id of the pass, recorded when the status changes. */
  traceId?: string;
}

/** Condition type saying whether the read Service has a replica to send reads to. */
export const REPLICAS_CONDITION = "ReplicasAvailable";

/**
 * The ReplicasAvailable condition: only for clusters with replicas (more
 * than one pod) whose pods were observed; True when at least one replica
 * pod is Ready, False when the read Service has none.
 */
function replicasCondition(
  cluster: MySQLCluster,
  replicas: number,
  pods: readonly Pod[],
): Omit<Condition, "lastTransitionTime" | "observedGeneration"> {
  const wanted = replicas - 1;
  const ready = readyReplicaPods(cluster, pods);
  const service = childNames(cluster).readService;
  return ready > 0
    ? {
      type: REPLICAS_CONDITION,
      status: "True",
      reason: "ReplicasReady",
      message: `${ready}/${wanted} replicas ready for reads through ${service}`,
    }
    : {
      type: REPLICAS_CONDITION,
      status: "False",
      reason: "NoReadyReplica",
      message:
        `no replica is ready: ${service} has nowhere to send reads (0/${wanted})`,
    };
}

/**
 * When a condition that is now `status` last changed: the `previous`
 * condition's time while its status is the same, else `now`.
 */
function transitionTime(
  previous: Condition | undefined,
  status: Condition["status"],
  now: string,
): string {
  return previous?.status === status ? previous.lastTransitionTime : now;
}

/**
 * The status the cluster should have. `now` (an RFC 3339 time) is used only
 * where something changed. `pods` (the cluster's pods, when they were
 * listed) decide the ReplicasAvailable condition; without them the stored
 * one is kept.
 */
export function computeStatus(
  cluster: MySQLCluster,
  check: SpecCheck,
  statefulSet: StatefulSet | undefined,
  now: string,
  pods?: readonly Pod[],
  extra: StatusExtra = {},
): MySQLClusterStatus {
  const old = cluster.status ?? {};
  const generation = cluster.metadata.generation ?? 0;
  const replicas = check.ok
    ? check.spec.replicas
    : typeof cluster.spec?.replicas === "number"
    ? cluster.spec.replicas
    : DEFAULTS.replicas;
  const observed = statefulSet ? view(statefulSet) : undefined;
  const summary = summarize(
    check,
    replicas,
    old.phase,
    observed,
    extra.blockers ?? [],
  );
  const previousReady = old.conditions?.find((c) => c.type === "Ready");
  const ready: Condition = {
    type: "Ready",
    status: summary.ready,
    reason: summary.reason,
    message: summary.message,
    lastTransitionTime: transitionTime(previousReady, summary.ready, now),
    observedGeneration: generation,
  };
  const conditions: Condition[] = [ready];
  const previousReplicas = old.conditions?.find((c) =>
    c.type === REPLICAS_CONDITION
  );
  if (check.ok && replicas > 1 && pods) {
    const condition = replicasCondition(cluster, replicas, pods);
    conditions.push({
      ...condition,
      lastTransitionTime: transitionTime(
        previousReplicas,
        condition.status,
        now,
      ),
      observedGeneration: generation,
    });
  } else if (check.ok && replicas > 1 && previousReplicas) {
    conditions.push(previousReplicas);
  }
  conditions.push(
    ...(old.conditions ?? []).filter((c) =>
      c.type !== "Ready" && c.type !== REPLICAS_CONDITION
    ),
  );
  const next: MySQLClusterStatus = {
    replicas,
    readyReplicas: observed?.readyReplicas ?? 0,
    phase: summary.phase,
    observedGeneration: generation,
    selector: selectorString(cluster),
    conditions,
  };
  if (replicas > 0) next.primary = primaryPod(cluster);
  // when nothing else changed, neither do the time and the trace it was written in
  const { lastUpdate, traceId, ...oldRest } = old;
  const same = sameJson(oldRest, next);
  next.lastUpdate = lastUpdate !== undefined && same ? lastUpdate : now;
  const trace = same ? traceId : extra.traceId;
  if (trace !== undefined) next.traceId = trace;
  return next;
}

/** True when writing `next` would change the stored status. */
export function statusChanged(
  old: MySQLClusterStatus | undefined,
  next: MySQLClusterStatus,
): boolean {
  return !sameJson(old ?? {}, next);
}

/** Structural equality of JSON values, ignoring key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (
    typeof a !== "object" || typeof b !== "object" || a === null || b === null
  ) {
    return false;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length &&
      a.every((v, i) => sameJson(v, other[i]));
  }
  const ka = Object.keys(a).filter((k) =>
    (a as Record<string, unknown>)[k] !== undefined
  );
  const kb = Object.keys(b).filter((k) =>
    (b as Record<string, unknown>)[k] !== undefined
  );
  return ka.length === kb.length &&
    ka.every((k) =>
      sameJson(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
      )
    );
}
