/**
 * The names of a MySQLCluster's children, in one place.
 *
 * @module
 */

import type { MySQLCluster } from "./mysql_cluster.ts";

/** Name of the StatefulSet's data volume claim template (PVCs are `data-X-<i>`). */
export const DATA_VOLUME = "data";

/** Names of a cluster's children. */
export function childNames(cluster: MySQLCluster) {
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
