/**
 * Validation of a cluster's spec in the core. The CRD refuses bad specs at
 * the apiserver; this catches what slipped past it (an older CRD, a
 * schema-less copy) so the cluster reports `Invalid` instead of failing a
 * write.
 *
 * @module
 */

import {
  DEFAULTS,
  MAX_REPLICAS,
  VERSION_PATTERN,
} from "./mysql_cluster_schema.ts";
import type { DeletionPolicy, MySQLCluster } from "./mysql_cluster.ts";
import { parseQuantity, type Quantity } from "./quantity.ts";

/** A spec with every default applied. */
export interface EffectiveSpec {
  /** MySQL version. */
  version: string;
  /** Number of pods. */
  replicas: number;
  /** Size of each data volume. */
  storageSize: Quantity;
  /** CPU and memory of each MySQL container. */
  resources: { cpu: Quantity; memory: Quantity };
  /** StorageClass of the data volumes, when set. */
  storageClassName?: string;
  /** Retain or Delete. */
  deletionPolicy: DeletionPolicy;
}

/** Either the effective spec or the reasons it is invalid. */
export type SpecCheck =
  | { ok: true; spec: EffectiveSpec }
  | { ok: false; problems: string[] };

/** Applies defaults and checks every field; lists every problem found. */
export function checkSpec(cluster: MySQLCluster): SpecCheck {
  const spec = cluster.spec ?? {};
  const effective: EffectiveSpec = {
    version: spec.version,
    replicas: spec.replicas ?? DEFAULTS.replicas,
    storageSize: spec.storageSize,
    resources: spec.resources ?? { ...DEFAULTS.resources },
    deletionPolicy: spec.deletionPolicy ?? DEFAULTS.deletionPolicy,
  };
  if (spec.storageClassName !== undefined) {
    effective.storageClassName = spec.storageClassName;
  }
  const problems: string[] = [];
  if (
    typeof effective.version !== "string" ||
    !new RegExp(VERSION_PATTERN).test(effective.version)
  ) {
    problems.push(
      `spec.version ${
        JSON.stringify(effective.version)
      } is not a MySQL version like "8.4"`,
    );
  }
  if (
    !Number.isInteger(effective.replicas) || effective.replicas < 0 ||
    effective.replicas > MAX_REPLICAS
  ) {
    problems.push(
      `spec.replicas ${effective.replicas} is not between 0 and ${MAX_REPLICAS}`,
    );
  }
  const quantities: [string, Quantity][] = [
    ["spec.storageSize", effective.storageSize],
    ["spec.resources.cpu", effective.resources.cpu],
    ["spec.resources.memory", effective.resources.memory],
  ];
  for (const [field, value] of quantities) {
    const parsed = value === undefined ? undefined : parseQuantity(value);
    if (parsed === undefined || parsed <= 0) {
      problems.push(
        `${field} ${
          JSON.stringify(value)
        } is not a positive quantity like "10Gi"`,
      );
    }
  }
  if (
    effective.deletionPolicy !== "Retain" &&
    effective.deletionPolicy !== "Delete"
  ) {
    problems.push(
      `spec.deletionPolicy ${
        JSON.stringify(effective.deletionPolicy)
      } is neither Retain nor Delete`,
    );
  }
  return problems.length > 0
    ? { ok: false, problems }
    : { ok: true, spec: effective };
}
