/**
 * The Kubernetes Events a pass records on its MySQLCluster (what
 * `kubectl describe mysqlcluster` shows): which phase transition deserves
 * one, and the core/v1 Event object itself.
 *
 * @module
 */

import { clusterNamespace } from "./child_names.ts";
import { FIELD_MANAGER } from "./labels.ts";
import type { MySQLCluster, MySQLClusterStatus } from "./mysql_cluster.ts";
import type { Event } from "./objects.ts";

/** An Event to record: its type, reason and message. */
export interface ClusterEvent {
  /** `Warning` for what needs attention. */
  type: "Normal" | "Warning";
  /** CamelCase reason, e.g. `Ready`. */
  reason: string;
  /** What happened, for people. */
  message: string;
}

/** The Event a phase transition deserves, if any. */
export function transitionEvent(
  before: MySQLClusterStatus | undefined,
  after: MySQLClusterStatus,
): ClusterEvent | undefined {
  if (before?.phase === after.phase) return undefined;
  const ready = after.conditions?.find((c) => c.type === "Ready");
  const message = ready?.message ?? "";
  switch (after.phase) {
    case "Ready":
      return { type: "Normal", reason: "Ready", message };
    case "Degraded":
      return { type: "Warning", reason: "Degraded", message };
    case "Invalid":
      return { type: "Warning", reason: "InvalidSpec", message };
    case "Stopped":
      return { type: "Normal", reason: "Stopped", message };
    case "Blocked":
      return { type: "Warning", reason: "ChildConflict", message };
    default:
      return undefined;
  }
}

/**
 * The core/v1 Event object recording `event` on `cluster` at `now` (a
 * generated name, so each record is a new object).
 */
export function eventObject(
  cluster: MySQLCluster,
  event: ClusterEvent,
  now: string,
): Event {
  const namespace = clusterNamespace(cluster);
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { generateName: `${cluster.metadata.name}.`, namespace },
    involvedObject: {
      apiVersion: cluster.apiVersion,
      kind: cluster.kind,
      name: cluster.metadata.name,
      namespace,
      uid: cluster.metadata.uid,
      resourceVersion: cluster.metadata.resourceVersion,
    },
    type: event.type,
    reason: event.reason,
    message: event.message,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    source: { component: FIELD_MANAGER },
    reportingComponent: FIELD_MANAGER,
  };
}
