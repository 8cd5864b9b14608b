/**
 * TypeScript types of the MySQLCluster API. The schema in
 * `mysql_cluster_schema.ts` is the source of truth; `SPEC_KEYS` and
 * `STATUS_KEYS` make the compiler list every field of these types, and a
 * test checks those lists against the schema.
 *
 * @module
 */

import type { Quantity } from "./quantity.ts";
import type { PHASES } from "./mysql_cluster_schema.ts";

/** What happens to data volumes and credentials when the cluster is deleted. */
export type DeletionPolicy = "Retain" | "Delete";

/** `spec` of a MySQLCluster. */
export interface MySQLClusterSpec {
  version: string;
  replicas?: number;
  storageSize: Quantity;
  resources?: { cpu: Quantity; memory: Quantity };
  storageClassName?: string;
  deletionPolicy?: DeletionPolicy;
}

/** A phase of a MySQLCluster. */
export type Phase = typeof PHASES[number];

/** A condition shaped like metav1.Condition. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** `status` of a MySQLCluster. */
export interface MySQLClusterStatus {
  replicas?: number;
  readyReplicas?: number;
  primary?: string;
  phase?: Phase;
  lastUpdate?: string;
  observedGeneration?: number;
  selector?: string;
  conditions?: Condition[];
}

/** Object metadata, as far as the core reads it. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}

/** A MySQLCluster object as read from the API. */
export interface MySQLCluster {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: MySQLClusterSpec;
  status?: MySQLClusterStatus;
}

/** Every spec field, once (the compiler refuses a missing or extra one). */
export const SPEC_KEYS: {
  readonly [K in keyof Required<MySQLClusterSpec>]: true;
} = {
  version: true,
  replicas: true,
  storageSize: true,
  resources: true,
  storageClassName: true,
  deletionPolicy: true,
};

/** Every status field, once (the compiler refuses a missing or extra one). */
export const STATUS_KEYS: {
  readonly [K in keyof Required<MySQLClusterStatus>]: true;
} = {
  replicas: true,
  readyReplicas: true,
  primary: true,
  phase: true,
  lastUpdate: true,
  observedGeneration: true,
  selector: true,
  conditions: true,
};
