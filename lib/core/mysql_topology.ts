/**
 * The replication topology of a MySQLCluster, as pure facts: pod 0 is the
 * primary, pods 1…N−1 are read-only replicas replicating from it; the
 * users, Secret keys, labels and per-pod identities that follow.
 *
 * @module
 */

import type { MySQLCluster } from "./mysql_cluster.ts";
import { GROUP } from "./mysql_cluster_schema.ts";
import { compareStrings, type Pod, type StatefulSet } from "./objects.ts";

/** Keys of the credentials Secret's passwords, each generated once. */
export const SECRET_KEYS = {
  root: "root-password",
  replication: "replication-password",
  probe: "probe-password",
} as const;

/** Keys of the credentials Secret naming the accounts those passwords belong to. */
export const SECRET_USER_KEYS = {
  replication: "replication-user",
  probe: "probe-user",
} as const;

/** MySQL account the replicas replicate and clone as. */
export const REPLICATION_USER = "repl";
/** MySQL account the readiness probe logs in as. */
export const PROBE_USER = "probe";
/** server_id of pod i is SERVER_ID_BASE + i (server_id must not be 0). */
export const SERVER_ID_BASE = 1000;
/** Label with each pod's role, kept by the operator; the read Service selects replicas by it. */
export const ROLE_LABEL = `${GROUP}/role`;
/** Label the StatefulSet controller puts on each pod: its name. */
export const POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";

/** A pod's role. */
export type Role = "primary" | "replica";

/** The ordinal of a pod of the cluster's StatefulSet (`X-3` → 3), else undefined. */
export function podOrdinal(
  cluster: MySQLCluster,
  podName: string,
): number | undefined {
  const prefix = `${cluster.metadata.name}-`;
  if (!podName.startsWith(prefix)) return undefined;
  const rest = podName.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

/** The role of pod `ordinal`: 0 is the primary, every other pod a replica. */
export function roleOf(ordinal: number): Role {
  return ordinal === 0 ? "primary" : "replica";
}

/** The primary's pod name. */
export function primaryPod(cluster: MySQLCluster): string {
  return `${cluster.metadata.name}-0`;
}

/** A role label to set on a pod. */
export interface RoleLabelPatch {
  /** The pod. */
  name: string;
  /** The role it must be labelled with. */
  role: Role;
}

/**
 * The pods of this cluster whose role label is missing or wrong. Pods the
 * StatefulSet no longer wants (ordinal ≥ replicas) are left alone.
 */
export function roleLabelPatches(
  cluster: MySQLCluster,
  pods: readonly Pod[],
): RoleLabelPatch[] {
  const patches: RoleLabelPatch[] = [];
  for (const pod of pods) {
    const name = pod.metadata?.name ?? "";
    const ordinal = podOrdinal(cluster, name);
    if (ordinal === undefined || pod.metadata?.deletionTimestamp) continue;
    const role = roleOf(ordinal);
    if (pod.metadata?.labels?.[ROLE_LABEL] !== role) {
      patches.push({ name, role });
    }
  }
  return patches.sort((a, b) => compareStrings(a.name, b.name));
}

/** Whether a pod is Ready (its Ready condition is True). */
export function podReady(pod: Pod): boolean {
  const conditions = pod.status?.conditions ?? [];
  return conditions.some((c) => c.type === "Ready" && c.status === "True");
}

/** How many replica pods (ordinal ≥ 1) of the cluster are Ready. */
export function readyReplicaPods(
  cluster: MySQLCluster,
  pods: readonly Pod[],
): number {
  return pods.filter((pod) => {
    const ordinal = podOrdinal(cluster, pod.metadata?.name ?? "");
    return ordinal !== undefined && ordinal > 0 && podReady(pod);
  }).length;
}

/**
 * Orders version strings `major.minor[.patch]`: negative when `a` is older.
 * A shorter version equal on the common part (`8.4` vs `8.4.3`) compares
 * equal: a floating tag is the same release line.
 */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const diff = pa[i]! - pb[i]!;
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The MySQL version a StatefulSet runs (its `mysql:<tag>` image), if any. */
export function runningVersion(
  statefulSet?: StatefulSet,
): string | undefined {
  const containers = statefulSet?.spec?.template?.spec?.containers ?? [];
  const image = containers.find((c) => c.name === "mysql")?.image;
  const match = image
    ? /^(?:.*\/)?mysql:(\d+(?:\.\d+){1,2})$/.exec(image)
    : null;
  return match?.[1];
}

/**
 * Why `wanted` cannot replace the running version, if it cannot: MySQL
 * does not downgrade a data directory in place.
 */
export function downgradeProblem(
  wanted: string,
  statefulSet?: StatefulSet,
): string | undefined {
  const running = runningVersion(statefulSet);
  if (running === undefined || compareVersions(wanted, running) >= 0) {
    return undefined;
  }
  return `spec.version: ${wanted} is older than the running ${running}; MySQL cannot downgrade its data in place (restore a backup into a new cluster instead); nothing was changed`;
}
