/**
 * What a pass reads, decided from the cluster alone: every child by name,
 * the pods above one replica (role labels, read availability), and — only
 * once the StatefulSet has been seen — the data PVCs when `storageSize`
 * outgrew its immutable claim template. The reads are the edge's; what to
 * read is decided here.
 *
 * @module
 */

import { childNames } from "./child_names.ts";
import { childRef, CHILDREN } from "./children.ts";
import { volumesMayNeedExpansion } from "./desired_children.ts";
import { KINDS } from "./kinds.ts";
import { selectorString } from "./labels.ts";
import type { MySQLCluster } from "./mysql_cluster.ts";
import {
  childKey,
  type KubeObject,
  type ObjectRef,
  type PersistentVolumeClaim,
  type Pod,
  type StatefulSet,
} from "./objects.ts";
import { checkSpec } from "./validate.ts";

/** One read of a pass. */
export type Read =
  | { op: "get"; ref: ObjectRef }
  | {
    op: "list";
    kind: typeof KINDS.Pod | typeof KINDS.PersistentVolumeClaim;
    namespace: string;
    /** Label selector, e.g. `app.kubernetes.io/instance=db,…`. */
    selector: string;
  };

/** Everything a pass observed of one cluster. */
export interface Observed {
  /** The cluster as read at the start of the pass. */
  cluster: MySQLCluster;
  /** The children found, keyed by {@linkcode childKey}; absent = not found. */
  children: ReadonlyMap<string, KubeObject>;
  /** The cluster's pods, when they were listed (above one replica). */
  pods?: Pod[];
  /** The data PVCs, when they were listed (storage grew). */
  volumeClaims?: PersistentVolumeClaim[];
}

/** The reads after the cluster's, all at once. None for a cluster being deleted. */
export function readsFor(cluster: MySQLCluster): Read[] {
  if (cluster.metadata.deletionTimestamp) return [];
  const reads: Read[] = CHILDREN.map((child) => ({
    op: "get",
    ref: childRef(child, cluster),
  }));
  const check = checkSpec(cluster);
  if (check.ok && check.spec.replicas > 1) {
    reads.push({
      op: "list",
      kind: KINDS.Pod,
      namespace: cluster.metadata.namespace ?? "default",
      selector: selectorString(cluster),
    });
  }
  return reads;
}

/**
 * The reads that depend on the first ones: the data PVCs, listed only once
 * `storageSize` outgrew the StatefulSet's claim template (before that every
 * PVC was made from the template, so listing them would be wasted).
 */
export function followUpReads(
  cluster: MySQLCluster,
  children: ReadonlyMap<string, KubeObject>,
): Read[] {
  const check = checkSpec(cluster);
  if (cluster.metadata.deletionTimestamp || !check.ok) return [];
  const statefulSet = children.get(
    childKey(KINDS.StatefulSet.kind, childNames(cluster).statefulSet),
  ) as StatefulSet | undefined;
  if (!volumesMayNeedExpansion(check.spec, statefulSet)) return [];
  return [{
    op: "list",
    kind: KINDS.PersistentVolumeClaim,
    namespace: cluster.metadata.namespace ?? "default",
    selector: selectorString(cluster),
  }];
}
