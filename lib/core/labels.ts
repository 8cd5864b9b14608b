/**
 * Names, labels and owner references shared by every child of a cluster.
 *
 * @module
 */

import type { MySQLCluster } from "./mysql_cluster.ts";
import type { ObjectMeta } from "./objects.ts";

/** A controller ownerReference (`metav1.OwnerReference`). */
export type OwnerReference = NonNullable<ObjectMeta["ownerReferences"]>[number];

/** The field manager every write of the operator uses (server-side apply). */
export const FIELD_MANAGER = "mysql-operator-fn";

/** Labels that select a cluster's pods; stable for the cluster's lifetime. */
export function selectorLabels(cluster: MySQLCluster): Record<string, string> {
  return {
    "app.kubernetes.io/name": "mysql",
    "app.kubernetes.io/instance": cluster.metadata.name,
  };
}

/** The recommended `app.kubernetes.io/*` labels of every child. */
export function childLabels(
  cluster: MySQLCluster,
  component: string,
): Record<string, string> {
  return {
    ...selectorLabels(cluster),
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/version": cluster.spec.version,
    "app.kubernetes.io/part-of": cluster.metadata.name,
    "app.kubernetes.io/managed-by": FIELD_MANAGER,
  };
}

/** The pods' label selector as a string (the scale subresource's `status.selector`). */
export function selectorString(cluster: MySQLCluster): string {
  return Object.entries(selectorLabels(cluster))
    .map(([key, value]) => `${key}=${value}`)
    .sort()
    .join(",");
}

/** A controller ownerReference to the cluster (garbage collection follows it). */
export function controllerReference(cluster: MySQLCluster): OwnerReference {
  if (!cluster.metadata.uid) {
    throw new Error(
      `MySQLCluster ${cluster.metadata.namespace}/${cluster.metadata.name} has no uid: read it from the API before computing its children`,
    );
  }
  return {
    apiVersion: cluster.apiVersion,
    kind: cluster.kind,
    name: cluster.metadata.name,
    uid: cluster.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata of a child: name, namespace, labels and the controller reference. */
export function childMetadata(
  cluster: MySQLCluster,
  name: string,
  component: string,
): ObjectMeta {
  return {
    name,
    namespace: cluster.metadata.namespace,
    labels: childLabels(cluster, component),
    ownerReferences: [controllerReference(cluster)],
  };
}
