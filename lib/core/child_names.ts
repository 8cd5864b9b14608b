/**
 * The names of a MySQLCluster's children, in one place.
 *
 * @module
 */

import type { MySQLCluster } from "./mysql_cluster.ts";

/** Name of the StatefulSet's data volume claim template (PVCs are `data-X-<i>`). */
export const DATA_VOLUME = "data";

/** The names of a cluster `X`'s children. */
export interface ChildNames {
  /** `X-credentials`. */
  secret: string;
  /** `X-config`. */
  configMap: string;
  /** `X`: per-pod DNS. */
  headlessService: string;
  /** `X-mysql`: the primary. */
  clientService: string;
  /** `X-mysql-read`: the replicas. */
  readService: string;
  /** `X`. */
  statefulSet: string;
  /** `X`. */
  podDisruptionBudget: string;
  /** `data-X-<ordinal>`: pod `ordinal`'s data volume claim. */
  pvc: (ordinal: number) => string;
}

/** Names of a cluster's children. */
export function childNames(cluster: MySQLCluster): ChildNames {
  const name = cluster.metadata.name;
  return {
    secret: `${name}-credentials`,
    configMap: `${name}-config`,
    headlessService: name,
    clientService: `${name}-mysql`,
    readService: `${name}-mysql-read`,
    statefulSet: name,
    podDisruptionBudget: name,
    pvc: (ordinal: number) => `${DATA_VOLUME}-${name}-${ordinal}`,
  };
}

/** The cluster's namespace (`default` when its metadata names none). */
export function clusterNamespace(cluster: MySQLCluster): string {
  return cluster.metadata.namespace ?? "default";
}
