/**
 * The API kinds the operator reads or writes, with the group, version and
 * resource (plural) that address them. The Kubernetes edge builds paths
 * from this table and the permission table names its resources.
 *
 * @module
 */

import { API_VERSION, KIND, PLURAL } from "./mysql_cluster_schema.ts";

/** How one kind is addressed in the API. */
export interface ApiKind {
  /** `apiVersion` of its objects, e.g. `apps/v1`. */
  apiVersion: string;
  /** API group (`""` for the core group). */
  group: string;
  /** Kind, e.g. `StatefulSet`. */
  kind: string;
  /** Resource (plural), e.g. `statefulsets`. */
  resource: string;
}

function apiKind(apiVersion: string, kind: string, resource: string): ApiKind {
  const slash = apiVersion.lastIndexOf("/");
  return {
    apiVersion,
    group: slash < 0 ? "" : apiVersion.slice(0, slash),
    kind,
    resource,
  };
}

/** Every kind the operator touches, by kind. */
export const KINDS = {
  MySQLCluster: apiKind(API_VERSION, KIND, PLURAL),
  ConfigMap: apiKind("v1", "ConfigMap", "configmaps"),
  Service: apiKind("v1", "Service", "services"),
  StatefulSet: apiKind("apps/v1", "StatefulSet", "statefulsets"),
  PodDisruptionBudget: apiKind(
    "policy/v1",
    "PodDisruptionBudget",
    "poddisruptionbudgets",
  ),
  Secret: apiKind("v1", "Secret", "secrets"),
  Pod: apiKind("v1", "Pod", "pods"),
  PersistentVolumeClaim: apiKind(
    "v1",
    "PersistentVolumeClaim",
    "persistentvolumeclaims",
  ),
  Event: apiKind("v1", "Event", "events"),
} as const satisfies Record<string, ApiKind>;

/** The kind named `kind` with `apiVersion`, if the operator knows it. */
export function apiKindOf(
  apiVersion: string,
  kind: string,
): ApiKind | undefined {
  const known = (KINDS as Record<string, ApiKind>)[kind];
  return known?.apiVersion === apiVersion ? known : undefined;
}

/** True for the MySQLCluster kind of this API. */
export function isClusterKind(apiVersion: string, kind: string): boolean {
  return apiVersion === API_VERSION && kind === KIND;
}
