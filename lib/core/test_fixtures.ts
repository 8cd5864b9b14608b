/**
 * Test data for the core's unit tests: a cluster as read from the API, and
 * its effective spec.
 *
 * @module
 */

import type { MySQLCluster, MySQLClusterSpec } from "./mysql_cluster.ts";
import { checkSpec, type EffectiveSpec } from "./validate.ts";

/** A MySQLCluster `db` in namespace `shop`, as the apiserver returns it. */
export function clusterFixture(
  spec: Partial<MySQLClusterSpec> = {},
): MySQLCluster {
  return {
    apiVersion: "database.example.com/v1",
    kind: "MySQLCluster",
    metadata: {
      name: "db",
      namespace: "shop",
      uid: "5f0c2b1e-0000-4000-8000-000000000001",
      generation: 4,
    },
    spec: { version: "8.4", storageSize: "10Gi", ...spec },
  };
}

/** The effective spec of a valid cluster (throws if it is invalid). */
export function effectiveSpec(cluster: MySQLCluster): EffectiveSpec {
  const check = checkSpec(cluster);
  if (!check.ok) throw new Error(check.problems.join("; "));
  return check.spec;
}
