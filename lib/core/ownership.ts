/**
 * Whose an existing object is. The operator writes an object of a child's
 * name only if this cluster controls it (its controller ownerReference has
 * the cluster's uid), or if it has no controller and the operator's field
 * manager wrote it (an orphan of ours, adopted). Anything else is someone
 * else's: the pass writes nothing to it and the cluster's status says so.
 *
 * @module
 */

import { KINDS } from "./kinds.ts";
import { childLabels, FIELD_MANAGER } from "./labels.ts";
import type { MySQLCluster } from "./mysql_cluster.ts";
import type { KubeObject, ObjectMeta, Pod, StatefulSet } from "./objects.ts";

/** Whose an object is, as far as this cluster is concerned. */
export type Ownership =
  | { owner: "this" }
  | { owner: "orphan" }
  | { owner: "other"; why: string };

/** Whose `object` is, for `cluster`. */
export function ownershipOf(
  object: KubeObject,
  cluster: MySQLCluster,
): Ownership {
  const controller = object.metadata?.ownerReferences?.find((r) =>
    r.controller
  );
  if (controller) {
    if (controller.uid === cluster.metadata.uid) return { owner: "this" };
    const earlier = controller.kind === KINDS.MySQLCluster.kind &&
      controller.name === cluster.metadata.name;
    return {
      owner: "other",
      why: earlier
        ? `is controlled by an earlier MySQLCluster ${controller.name} (uid ${controller.uid}) until the garbage collector removes it`
        : `is controlled by ${controller.kind} ${controller.name}`,
    };
  }
  const ours = object.metadata?.managedFields?.some((f) =>
    f.manager === FIELD_MANAGER
  );
  return ours
    ? { owner: "orphan" }
    : { owner: "other", why: "exists and was not made by mysql-operator-fn" };
}

/** True when `pod` is controlled by `statefulSet` (uid match). */
export function podOf(pod: Pod, statefulSet: StatefulSet | undefined): boolean {
  const uid = statefulSet?.metadata?.uid;
  return uid !== undefined &&
    (pod.metadata?.ownerReferences ?? []).some((r) =>
      r.controller && r.kind === KINDS.StatefulSet.kind && r.uid === uid
    );
}

/**
 * Whose the credentials Secret is, from its metadata (the function never
 * reads a Secret's data): this cluster's when it carries the operator's
 * labels for a cluster of this name — a Secret kept by `Retain` from an
 * earlier cluster of the name is reused, as its volumes are.
 */
export function credentialsOwnership(
  metadata: ObjectMeta,
  cluster: MySQLCluster,
): Ownership {
  const wanted = childLabels(cluster, "credentials");
  const labels = metadata.labels ?? {};
  const keys = [
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
  ] as const;
  const missing = keys.filter((key) => labels[key] !== wanted[key]);
  return missing.length === 0 ? { owner: "this" } : {
    owner: "other",
    why: `exists without the labels of this cluster's credentials (${
      missing.map((key) => `${key}=${wanted[key]}`).join(", ")
    })`,
  };
}
