/**
 * The usual start of an operator test: a control plane with the
 * MySQLCluster CRD installed, a namespace, and optionally some clusters.
 *
 * @module
 */

import { mysqlClusterCrd } from "../../lib/manifests/crd.ts";
import type { KubeObject } from "../../lib/core/objects.ts";
import { applyObjects } from "./apply.ts";
import { type ControlPlane, startControlPlane } from "./control_plane.ts";
import { installCrds } from "./crds.ts";

/** A MySQLCluster manifest with the given spec. */
export function clusterManifest(
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {
    version: "8.4",
    storageSize: "1Gi",
    replicas: 3,
  },
): KubeObject {
  return {
    apiVersion: "database.example.com/v1",
    kind: "MySQLCluster",
    metadata: { name, namespace },
    spec,
  };
}

/**
 * Starts a control plane, installs the MySQLCluster CRD, creates
 * `namespace` and applies `clusters` (names, each a 3-replica cluster).
 */
export async function startOperatorBed(
  namespace: string,
  clusters: string[] = [],
): Promise<ControlPlane> {
  const cp = await startControlPlane();
  try {
    await installCrds(cp.kube, [mysqlClusterCrd()]);
    await applyObjects(cp.kube, [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
      ...clusters.map((name) => clusterManifest(namespace, name)),
    ]);
    return cp;
  } catch (error) {
    await cp.stop();
    throw error;
  }
}
