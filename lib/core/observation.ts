/**
 * What a pass reads, decided here (the reads are the edge's): every child
 * by name and the pods (role labels, read availability; kept above one
 * replica), sent with the cluster's own read (with the credentials Secret's
 * metadata for a cluster the event says is new); then, from what those
 * showed, the credentials Secret's metadata while this cluster has no
 * StatefulSet of its own (unless read ahead), and the data PVCs once
 * `storageSize` outgrew the StatefulSet's immutable claim template.
 *
 * @module
 */

import { childNames, clusterNamespace } from "./child_names.ts";
import { childRef, CHILDREN, credentialsRef } from "./children.ts";
import { volumesMayNeedExpansion } from "./desired_children.ts";
import { KINDS } from "./kinds.ts";
import { selectorString } from "./labels.ts";
import type { MySQLCluster } from "./mysql_cluster.ts";
import {
  childKey,
  type KubeObject,
  type ObjectMeta,
  type ObjectRef,
  type PersistentVolumeClaim,
  type Pod,
  type StatefulSet,
} from "./objects.ts";
import { ownershipOf } from "./ownership.ts";
import { checkSpec } from "./validate.ts";

/**
 * The object an event carried, by {@linkcode childKey} (the cluster's own
 * or a child's) and version: what the pass reads of that very object is at
 * least as new (see {@linkcode readsAhead}, {@linkcode clusterNotOlderThan}).
 */
export interface SeenObject {
  /** `Kind/name`. */
  key: string;
  /** Its `metadata.resourceVersion` in the event. */
  resourceVersion: string;
}

/** One read of a pass. */
export type Read =
  | {
    op: "get";
    ref: ObjectRef;
    /**
     * The version an event carried for this very child: read at least as
     * new (its kind's watch cache waits for it); without, the watch cache
     * as it is.
     */
    notOlderThan?: string;
  }
  /** The credentials Secret's metadata only: the function never reads a Secret's data. */
  | { op: "credentials"; ref: ObjectRef }
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
  /** The credentials Secret, when it was looked at (no StatefulSet of ours yet). */
  credentials?: Credentials;
}

/** What was seen of the credentials Secret (its metadata at most). */
export type Credentials =
  | { exists: false }
  | { exists: true; metadata: ObjectMeta }
  /** It exists and the admission policy refused to show it: not the operator's. */
  | { exists: true; refused: string };

/** The cluster's StatefulSet among the `children` observed, if found. */
export function observedStatefulSet(
  cluster: MySQLCluster,
  children: ReadonlyMap<string, KubeObject>,
): StatefulSet | undefined {
  return children.get(
    childKey(KINDS.StatefulSet.kind, childNames(cluster).statefulSet),
  ) as StatefulSet | undefined;
}

/**
 * The reads sent together with the cluster's own (one round trip less per
 * pass): its children by name and its pods by label, which need nothing of
 * the cluster but its namespace and name. The pods are used above one
 * replica only; below, and for a cluster being deleted, these are wasted.
 * For a cluster the event says was `fresh` (never reconciled: a creation),
 * the credentials Secret's metadata too, which a creation needs before its
 * first write (one more round trip otherwise); used only when
 * {@linkcode credentialsUsed}. The child an event carried (`seen`) is read
 * at least as new as the event: the change the event told of is seen even
 * from an apiserver whose cache lags the one the source watches.
 */
export function readsAhead(
  namespace: string,
  name: string,
  fresh = false,
  seen?: SeenObject,
): Read[] {
  // the children's names and the pods' labels come from the cluster's name
  const named = { metadata: { namespace, name } } as MySQLCluster;
  return [
    ...CHILDREN.map((child): Read => {
      const ref = childRef(child, named);
      return seen?.key === childKey(ref.kind, ref.name)
        ? { op: "get", ref, notOlderThan: seen.resourceVersion }
        : { op: "get", ref };
    }),
    { op: "list", kind: KINDS.Pod, namespace, selector: selectorString(named) },
    ...(fresh
      ? [{ op: "credentials", ref: credentialsRef(named) } as const]
      : []),
  ];
}

/**
 * The version the cluster `name` is read at least as new as: the one its
 * own event carried (the cluster's watch cache answers as soon as it has
 * it). `undefined` — the latest, a quorum read — for an event of a child or
 * none: a version of another kind makes the cluster's cache wait until it
 * has caught up with the whole store (~75 ms after a child's write,
 * measured), while etcd answers a quorum read at once.
 */
export function clusterNotOlderThan(
  name: string,
  seen?: SeenObject,
): string | undefined {
  return seen?.key === childKey(KINDS.MySQLCluster.kind, name)
    ? seen.resourceVersion
    : undefined;
}

/**
 * Whether a pass uses the pods listed ahead ({@linkcode readsAhead}): for
 * role labels and read availability, above one replica of a valid spec.
 */
export function podsUsed(cluster: MySQLCluster): boolean {
  const check = checkSpec(cluster);
  return check.ok && check.spec.replicas > 1;
}

/**
 * Whether a pass uses the credentials Secret's metadata: for a valid spec
 * not being deleted, until this cluster has a StatefulSet of its own (the
 * Secret is made, or its owner checked, before that StatefulSet exists;
 * once it does, the Secret was settled then).
 */
export function credentialsUsed(
  cluster: MySQLCluster,
  children: ReadonlyMap<string, KubeObject>,
): boolean {
  return !cluster.metadata.deletionTimestamp && checkSpec(cluster).ok &&
    !ownStatefulSet(cluster, observedStatefulSet(cluster, children));
}

/** Whether `statefulSet` (observed, if any) is this cluster's own. */
function ownStatefulSet(
  cluster: MySQLCluster,
  statefulSet: StatefulSet | undefined,
): boolean {
  return !!statefulSet && ownershipOf(statefulSet, cluster).owner === "this";
}

/** What the reads sent ahead found, besides the children. */
export interface FoundAhead {
  /** The pods, as listed ahead. */
  pods?: Pod[];
  /** The credentials Secret's metadata, when read ahead (on a hint). */
  credentials?: Credentials;
}

/**
 * What of the reads sent ahead ({@linkcode readsAhead}) a pass over
 * `cluster` keeps: the pods when {@linkcode podsUsed}, the credentials
 * when {@linkcode credentialsUsed} — read on a hint, they are kept only when
 * the pass would have read them, so the hint never changes the plan.
 */
export function keptAhead(
  cluster: MySQLCluster,
  children: ReadonlyMap<string, KubeObject>,
  found: FoundAhead,
): FoundAhead {
  return {
    ...(found.pods && podsUsed(cluster) ? { pods: found.pods } : {}),
    ...(found.credentials && credentialsUsed(cluster, children)
      ? { credentials: found.credentials }
      : {}),
  };
}

/**
 * The reads that depend on the first ones: the credentials Secret's
 * metadata when {@linkcode credentialsUsed} and not `credentialsRead`
 * ahead; the data PVCs, listed only once `storageSize` outgrew the
 * StatefulSet's claim template (before that every PVC was made from the
 * template, so listing them would be wasted).
 */
export function followUpReads(
  cluster: MySQLCluster,
  children: ReadonlyMap<string, KubeObject>,
  credentialsRead = false,
): Read[] {
  const check = checkSpec(cluster);
  if (cluster.metadata.deletionTimestamp || !check.ok) return [];
  const namespace = clusterNamespace(cluster);
  const statefulSet = observedStatefulSet(cluster, children);
  const reads: Read[] = [];
  // credentialsUsed, its first two conditions checked above
  if (!credentialsRead && !ownStatefulSet(cluster, statefulSet)) {
    reads.push({ op: "credentials", ref: credentialsRef(cluster) });
  }
  if (volumesMayNeedExpansion(check.spec, statefulSet)) {
    reads.push({
      op: "list",
      kind: KINDS.PersistentVolumeClaim,
      namespace,
      selector: selectorString(cluster),
    });
  }
  return reads;
}
