/**
 * The MySQLCluster API, written once: its names and its OpenAPI v3 schema.
 * The CRD in `knative/` is generated from this file (`deno task manifests`), and
 * the TypeScript types in `mysql_cluster.ts` are checked against it.
 *
 * @module
 */

import { QUANTITY_PATTERN } from "./quantity.ts";

/** API group of MySQLCluster. */
export const GROUP = "database.example.com";
/** API version (the only one served and stored). */
export const VERSION = "v1";
/** `apiVersion` of a MySQLCluster object. */
export const API_VERSION = `${GROUP}/${VERSION}`;
/** Kind. */
export const KIND = "MySQLCluster";
/** Resource name (plural). */
export const PLURAL = "mysqlclusters";
/** Singular name. */
export const SINGULAR = "mysqlcluster";
/** Short name for kubectl. */
export const SHORT_NAME = "mysql";

/** Highest replica count the API accepts. */
export const MAX_REPLICAS = 9;
/** A DNS-1123 subdomain: lowercase alphanumerics, `-` and `.`, at most 253 characters. */
export const DNS_SUBDOMAIN_PATTERN =
  "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
/** A DNS-1123 label: lowercase alphanumerics and `-`, at most 63 characters. */
export const DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/** MySQL image tags the API accepts: major.minor or major.minor.patch. */
export const VERSION_PATTERN = "^[0-9]+\\.[0-9]+(\\.[0-9]+)?$";
/** The phases a cluster reports. */
export const PHASES = [
  "Pending",
  "Provisioning",
  "Ready",
  "Degraded",
  "Stopped",
  "Invalid",
  "Blocked",
] as const;
/** Defaults applied by the apiserver (and by the core for objects that bypassed it). */
export const DEFAULTS = {
  replicas: 1,
  resources: { cpu: "500m", memory: "1Gi" },
  deletionPolicy: "Retain",
} as const;

/** A JSON Schema (OpenAPI v3) node. */
export type Schema = Record<string, unknown>;

function quantity(description: string, extra: Schema = {}): Schema {
  return {
    description,
    anyOf: [{ type: "integer" }, { type: "string" }],
    pattern: QUANTITY_PATTERN,
    "x-kubernetes-int-or-string": true,
    ...extra,
  };
}

const specSchema: Schema = {
  description:
    "Desired state of a MySQL cluster: pod 0 is the primary, the others replicas.",
  type: "object",
  required: ["version", "storageSize"],
  properties: {
    version: {
      description:
        'MySQL version: the tag of the official `mysql` image, major.minor or major.minor.patch (e.g. "8.4").',
      type: "string",
      pattern: VERSION_PATTERN,
      maxLength: 32,
    },
    replicas: {
      description:
        `Number of MySQL pods, 0 to ${MAX_REPLICAS}. 0 stops the cluster and keeps its data.`,
      type: "integer",
      format: "int32",
      minimum: 0,
      maximum: MAX_REPLICAS,
      default: DEFAULTS.replicas,
    },
    storageSize: quantity(
      'Size of each pod\'s data volume, a Kubernetes quantity (e.g. "10Gi"). It can grow (existing volumes are expanded) but never shrink.',
      {
        "x-kubernetes-validations": [{
          rule:
            "quantity(string(self)).compareTo(quantity(string(oldSelf))) >= 0",
          message: "storageSize cannot shrink: volumes can only grow",
          reason: "FieldValueForbidden",
        }],
      },
    ),
    resources: {
      description:
        "CPU and memory of each MySQL container, used as both requests and limits (Guaranteed QoS).",
      type: "object",
      default: DEFAULTS.resources,
      required: ["cpu", "memory"],
      properties: {
        cpu: quantity('CPU, a Kubernetes quantity (e.g. 1 or "500m").'),
        memory: quantity('Memory, a Kubernetes quantity (e.g. "2Gi").'),
      },
    },
    storageClassName: {
      description:
        "StorageClass of the data volumes (a DNS subdomain name); the cluster's default StorageClass when omitted.",
      type: "string",
      maxLength: 253,
      pattern: DNS_SUBDOMAIN_PATTERN,
    },
    deletionPolicy: {
      description:
        "What happens to the data volumes and the credentials Secret when the cluster is deleted or scaled down: Retain (default) keeps them (a new cluster of the same name reuses them), Delete removes them. Fixed at creation.",
      type: "string",
      enum: ["Retain", "Delete"],
      default: DEFAULTS.deletionPolicy,
      "x-kubernetes-validations": [{
        rule: "self == oldSelf",
        message:
          "deletionPolicy is fixed at creation: it decides whether the credentials Secret is owned by the cluster, and the Secret must live exactly as long as the data",
        reason: "FieldValueForbidden",
      }],
    },
  },
};

const conditionSchema: Schema = {
  description: "A condition, shaped like metav1.Condition.",
  type: "object",
  required: ["type", "status", "lastTransitionTime", "reason", "message"],
  properties: {
    type: {
      description: "Type of the condition, e.g. Ready.",
      type: "string",
      maxLength: 316,
    },
    status: {
      description: "True, False or Unknown.",
      type: "string",
      enum: ["True", "False", "Unknown"],
    },
    reason: {
      description: "Machine-readable CamelCase reason for the last transition.",
      type: "string",
      maxLength: 1024,
      minLength: 1,
    },
    message: {
      description: "Human-readable details about the last transition.",
      type: "string",
      maxLength: 32768,
    },
    lastTransitionTime: {
      description: "When the status last changed.",
      type: "string",
      format: "date-time",
    },
    observedGeneration: {
      description: "The .metadata.generation the condition was computed from.",
      type: "integer",
      format: "int64",
      minimum: 0,
    },
  },
};

const statusSchema: Schema = {
  description: "Observed state of the cluster, written by the operator.",
  type: "object",
  properties: {
    replicas: {
      description: "Desired number of pods (the scale subresource reads it).",
      type: "integer",
      format: "int32",
    },
    readyReplicas: {
      description: "Pods of the StatefulSet that are Ready.",
      type: "integer",
      format: "int32",
    },
    primary: {
      description:
        "The primary's pod (always pod 0: it takes the writes through the Service <name>-mysql; the others replicate from it and serve <name>-mysql-read).",
      type: "string",
    },
    phase: {
      description:
        "Summary: Pending (nothing created yet), Provisioning, Ready, Degraded (was Ready, lost pods), Stopped (0 replicas), Invalid (spec refused) or Blocked (an object of a child's name belongs to someone else).",
      type: "string",
      enum: [...PHASES],
    },
    lastUpdate: {
      description:
        "When the status last changed (unchanged when a reconcile found nothing new).",
      type: "string",
      format: "date-time",
    },
    observedGeneration: {
      description: "The .metadata.generation this status was computed from.",
      type: "integer",
      format: "int64",
    },
    selector: {
      description:
        "Label selector of the cluster's pods (for the scale subresource).",
      type: "string",
    },
    traceId: {
      description:
        "Trace id of the reconcile that last wrote this status: find it in your tracing backend.",
      type: "string",
      pattern: "^[0-9a-f]{32}$",
    },
    conditions: {
      description: "Conditions of the cluster; Ready is always present.",
      type: "array",
      items: conditionSchema,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    },
  },
};

/** The OpenAPI v3 schema of a MySQLCluster object. */
export const MYSQL_CLUSTER_SCHEMA: Schema = {
  description:
    "A MySQL cluster managed by the mysql-operator-fn function: a StatefulSet with one data volume per pod, Services and a credentials Secret.",
  type: "object",
  required: ["spec"],
  properties: {
    apiVersion: { description: "API version of this object.", type: "string" },
    kind: { description: "Kind of this object.", type: "string" },
    // the apiserver describes metadata itself and refuses anything else here
    metadata: { type: "object" },
    spec: specSchema,
    status: statusSchema,
  },
};

/** The names of the spec's fields, in schema order. */
export const SPEC_FIELDS: readonly string[] = Object.keys(
  specSchema.properties as Schema,
);
/** The names of the status's fields, in schema order. */
export const STATUS_FIELDS: readonly string[] = Object.keys(
  statusSchema.properties as Schema,
);
