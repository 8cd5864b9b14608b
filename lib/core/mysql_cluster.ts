/**
 * TypeScript types of the MySQLCluster API. The schema in
 * `mysql_cluster_schema.ts` is the source of truth; `SPEC_KEYS` and
 * `STATUS_KEYS` make the compiler list every field of these types, and a
 * test checks those lists against the schema.
 *
 * @module
 */

import type { ObjectMeta } from "./objects.ts";
import type { Quantity } from "./quantity.ts";
import type { PHASES } from "./mysql_cluster_schema.ts";

/** What happens to data volumes and credentials when the cluster is deleted. */
export type DeletionPolicy = "Retain" | "Delete";

/** `spec` of a MySQLCluster. */
export interface MySQLClusterSpec {
  /** MySQL version: the tag of the official image. */
  version: string;
  /** Number of MySQL pods (0–9; default 1). */
  replicas?: number;
  /** Size of each pod's data volume; it can grow, never shrink. */
  storageSize: Quantity;
  /** CPU and memory of each MySQL container (requests = limits). */
  resources?: { cpu: Quantity; memory: Quantity };
  /** StorageClass of the data volumes (default: the cluster's). */
  storageClassName?: string;
  /** What happens to volumes and credentials on deletion (default Retain). */
  deletionPolicy?: DeletionPolicy;
}

/** A phase of a MySQLCluster. */
export type Phase = typeof PHASES[number];

/** A condition shaped like metav1.Condition. */
export interface Condition {
  /** Condition type, e.g. `Ready`. */
  type: string;
  /** Whether the condition holds. */
  status: "True" | "False" | "Unknown";
  /** Machine-readable reason in CamelCase. */
  reason: string;
  /** Human-readable detail. */
  message: string;
  /** When `status` last changed (RFC 3339). */
  lastTransitionTime: string;
  /** The cluster's generation the condition was computed for. */
  observedGeneration?: number;
}

/** `status` of a MySQLCluster. */
export interface MySQLClusterStatus {
  /** Desired pods (from the spec). */
  replicas?: number;
  /** Pods ready, from the StatefulSet. */
  readyReplicas?: number;
  /** The primary's pod name (absent when stopped). */
  primary?: string;
  /** Summary of the cluster's state. */
  phase?: Phase;
  /** When the status last changed (RFC 3339). */
  lastUpdate?: string;
  /** The generation this status was computed for. */
  observedGeneration?: number;
  /** The pods' label selector (scale subresource). */
  selector?: string;
  /** Trace id of the reconcile that last wrote this status. */
  traceId?: string;
  /** `Ready` and, above one pod, `ReplicasAvailable`. */
  conditions?: Condition[];
}

/** A MySQLCluster object as read from the API. */
export interface MySQLCluster {
  /** `database.example.com/v1`. */
  apiVersion: string;
  /** `MySQLCluster`. */
  kind: string;
  /** Its metadata; `name` is always set on objects read from the API. */
  metadata: ObjectMeta & { name: string };
  /** What the user asked for. */
  spec: MySQLClusterSpec;
  /** What the operator last observed. */
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
  traceId: true,
  conditions: true,
};
