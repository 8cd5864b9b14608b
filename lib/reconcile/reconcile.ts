/**
 * One reconcile of one MySQLCluster, read top-down as the story of a pass:
 * read the cluster and its children (concurrently), compute what should
 * exist (pure core), write only what differs (concurrently), write the
 * status only when it changed, and record an Event on transitions.
 *
 * Events are hints: this always starts from the cluster as the API has it
 * now, never from an event's payload.
 *
 * Telemetry: the active span (the request's, or one per cluster in a
 * resync) gets the cluster's attributes and an event per child ensured and
 * for the status; the trace id goes into the `status-trace-id` annotation
 * and the Events' messages whenever status or Events are written.
 *
 * @module
 */

import { type Span, trace } from "@opentelemetry/api";
import { childNames } from "../core/child_names.ts";
import { covers } from "../core/covers.ts";
import {
  desiredChildren,
  desiredSecret,
  type ObservedChildren,
  volumesMayNeedExpansion,
} from "../core/desired_children.ts";
import {
  annotateCluster,
  apply,
  applyStatus,
  createIfAbsent,
  deleteIfPresent,
  expandPersistentVolumeClaim,
  getCluster,
  getOptional,
  labelPod,
  listByLabel,
  objectPath,
  recordEvent,
} from "../kube/api.ts";
import type { KubeHttp, KubeObject } from "../kube/http.ts";
import { selectorString, TRACE_ANNOTATION } from "../core/labels.ts";
import { log } from "../telemetry/log.ts";
import type {
  MySQLCluster,
  MySQLClusterStatus,
  Phase,
} from "../core/mysql_cluster.ts";
import { computeStatus, statusChanged } from "../core/status.ts";
import {
  downgradeProblem,
  ROLE_LABEL,
  roleLabelPatches,
} from "../core/mysql_topology.ts";
import { activeIds } from "../telemetry/trace_context.ts";
import { checkSpec } from "../core/validate.ts";

/** What a reconcile did. */
export interface ReconcileResult {
  /** `namespace/name`. */
  key: string;
  /** `absent`: the cluster does not exist (deleted); `deleting`: it is being deleted. */
  outcome: "reconciled" | "unchanged" | "invalid" | "absent" | "deleting";
  /** The writes made, e.g. `apply StatefulSet db`, `status`. */
  writes: string[];
  /** The phase after the reconcile. */
  phase?: Phase;
}

/** What the reconcile needs from outside besides the API. */
export interface ReconcileContext {
  kube: KubeHttp;
  /** Current time, RFC 3339. */
  now: () => string;
  /**
   * A fresh password. Each reconcile draws three for a Secret it creates
   * only if none exists (the existing one is never read or replaced).
   */
  newPassword: () => string;
}

/** Records on `span` that a child was ensured and how. */
function ensured(
  span: Span | undefined,
  kind: string,
  name: string,
  action: "created" | "kept" | "applied" | "unchanged" | "deleted" | "expanded",
): void {
  span?.addEvent(`ensured ${kind}`, {
    "k8s.kind": kind,
    "k8s.name": name,
    "mysql.action": action,
  });
}

/** What a reconcile observed: the children, and the pods when they matter. */
type Observed = ObservedChildren & {
  services: (KubeObject | undefined)[];
  configMap?: KubeObject;
  /** Listed only for clusters with replicas (role labels, read availability). */
  pods?: KubeObject[];
};

async function observeChildren(
  kube: KubeHttp,
  cluster: MySQLCluster,
  listPodsToo: boolean,
): Promise<Observed> {
  const namespace = cluster.metadata.namespace ?? "default";
  const names = childNames(cluster);
  const get = (apiVersion: string, kind: string, name: string) =>
    getOptional(kube, objectPath({ apiVersion, kind, namespace, name }));
  const [
    statefulSet,
    headless,
    client,
    read,
    configMap,
    podDisruptionBudget,
    pods,
  ] = await Promise.all([
    get("apps/v1", "StatefulSet", names.statefulSet),
    get("v1", "Service", names.headlessService),
    get("v1", "Service", names.clientService),
    get("v1", "Service", names.readService),
    get("v1", "ConfigMap", names.configMap),
    get("policy/v1", "PodDisruptionBudget", names.podDisruptionBudget),
    listPodsToo
      ? listByLabel(kube, "pods", namespace, selectorString(cluster))
      : undefined,
  ]);
  const observed: Observed = { services: [headless, client, read] };
  if (configMap) observed.configMap = configMap;
  if (pods) observed.pods = pods;
  if (statefulSet) observed.statefulSet = statefulSet;
  if (podDisruptionBudget) observed.podDisruptionBudget = podDisruptionBudget;
  return observed;
}

function observedFor(
  object: KubeObject,
  observed: Observed,
): KubeObject | undefined {
  const name = (object.metadata as { name: string }).name;
  switch (object.kind) {
    case "ConfigMap":
      return observed.configMap;
    case "StatefulSet":
      return observed.statefulSet;
    case "PodDisruptionBudget":
      return observed.podDisruptionBudget;
    case "Service":
      return observed.services.find((s) =>
        (s?.metadata as { name?: string } | undefined)?.name === name
      );
    default:
      return undefined;
  }
}

/** The Event a phase transition deserves, if any. */
export function transitionEvent(
  before: MySQLClusterStatus | undefined,
  after: MySQLClusterStatus,
): { type: "Normal" | "Warning"; reason: string; message: string } | undefined {
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
    default:
      return undefined;
  }
}

/**
 * Writes the trace annotation. Best effort: it is telemetry, so a refusal
 * is logged (the failed call's span records it) and the reconcile goes on.
 */
async function annotate(
  kube: KubeHttp,
  cluster: MySQLCluster,
  traceId: string,
): Promise<void> {
  try {
    await annotateCluster(kube, cluster, { [TRACE_ANNOTATION]: traceId });
  } catch (error) {
    log("warn", "could not annotate the cluster with the trace id", {
      key: `${cluster.metadata.namespace}/${cluster.metadata.name}`,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** Reconciles the MySQLCluster `namespace/name`. */
export async function reconcile(
  context: ReconcileContext,
  namespace: string,
  name: string,
): Promise<ReconcileResult> {
  const { kube } = context;
  const span = trace.getActiveSpan();
  const key = `${namespace}/${name}`;
  span?.setAttributes({
    "k8s.namespace.name": namespace,
    "mysql.namespace": namespace,
    "mysql.name": name,
  });

  // 1. Read the cluster as it is now.
  const cluster = await getCluster(kube, namespace, name);
  if (!cluster) return { key, outcome: "absent", writes: [] };
  span?.setAttribute("mysql.generation", cluster.metadata.generation ?? 0);
  if (typeof cluster.spec?.replicas === "number") {
    span?.setAttribute("mysql.replicas", cluster.spec.replicas);
  }
  if (cluster.metadata.deletionTimestamp) {
    // ownerReferences let the garbage collector remove the children
    return { key, outcome: "deleting", writes: [] };
  }

  // 2. Read its children, all at once; meanwhile make sure the Secret
  // exists. It is created when absent and never read: the function may
  // create Secrets but not read them (least privilege), and an existing one
  // is never overwritten.
  let check = checkSpec(cluster);
  const passwords = {
    root: context.newPassword(),
    replication: context.newPassword(),
    probe: context.newPassword(),
  };
  const secret = check.ok
    ? desiredSecret(cluster, check.spec, passwords)
    : undefined;
  const [observed, secretCreated] = await Promise.all([
    observeChildren(kube, cluster, check.ok && check.spec.replicas > 1),
    secret ? createIfAbsent(kube, secret) : false,
  ]);
  // MySQL cannot downgrade a data directory: refuse, and change nothing
  const downgrade = check.ok
    ? downgradeProblem(check.spec.version, observed.statefulSet)
    : undefined;
  if (downgrade) check = { ok: false, problems: [downgrade] };
  if (check.ok && volumesMayNeedExpansion(check.spec, observed.statefulSet)) {
    observed.persistentVolumeClaims = await listByLabel(
      kube,
      "persistentvolumeclaims",
      namespace,
      selectorString(cluster),
    );
  }

  // 3. Write what differs, concurrently (the Secret pods need exists now).
  const writes: string[] = [];
  let statefulSet = observed.statefulSet;
  if (check.ok && secret) {
    const secretName = (secret.metadata as { name: string }).name;
    if (secretCreated) writes.push(`create Secret ${secretName}`);
    ensured(span, "Secret", secretName, secretCreated ? "created" : "kept");
    const desired = desiredChildren(
      cluster,
      check.spec,
      { ...observed, secret },
      passwords,
    );
    await Promise.all([
      ...desired.apply.map(async (object) => {
        const childName = (object.metadata as { name: string }).name;
        const current = observedFor(object, observed);
        if (current && covers(current, object)) {
          ensured(span, String(object.kind), childName, "unchanged");
          return;
        }
        const stored = await apply(kube, object);
        writes.push(`apply ${object.kind} ${childName}`);
        ensured(span, String(object.kind), childName, "applied");
        if (object.kind === "StatefulSet") statefulSet = stored;
      }),
      ...desired.delete.map(async (ref) => {
        await deleteIfPresent(kube, ref);
        writes.push(`delete ${ref.kind} ${ref.name}`);
        ensured(span, ref.kind, ref.name, "deleted");
      }),
      ...roleLabelPatches(cluster, observed.pods ?? []).map(async (patch) => {
        await labelPod(kube, namespace, patch.name, {
          [ROLE_LABEL]: patch.role,
        });
        writes.push(`label Pod ${patch.name} ${patch.role}`);
        span?.addEvent("labelled Pod", {
          "k8s.name": patch.name,
          "mysql.role": patch.role,
        });
      }),
      ...desired.expand.map(async (pvc) => {
        await expandPersistentVolumeClaim(
          kube,
          pvc.namespace,
          pvc.name,
          pvc.storage,
        );
        writes.push(
          `expand PersistentVolumeClaim ${pvc.name} to ${pvc.storage}`,
        );
        ensured(span, "PersistentVolumeClaim", pvc.name, "expanded");
      }),
    ]);
  }

  // 4. Status, only when it changed; Events on transitions only. Whatever
  // is written carries the trace id, so `kubectl describe` leads to it.
  const now = context.now();
  const status = computeStatus(cluster, check, statefulSet, now, observed.pods);
  const traceId = activeIds()?.traceId;
  const events = [];
  if (!observed.statefulSet && statefulSet) {
    events.push({
      type: "Normal" as const,
      reason: "Created",
      message: `created the Services and the StatefulSet ${name}`,
    });
  }
  const changed = statusChanged(cluster.status, status);
  if (changed) {
    const transition = transitionEvent(cluster.status, status);
    if (transition) events.push(transition);
    await Promise.all([
      applyStatus(kube, cluster, status),
      traceId ? annotate(kube, cluster, traceId) : undefined,
    ]);
    writes.push("status");
  }
  span?.addEvent(changed ? "status written" : "status unchanged", {
    "mysql.phase": status.phase ?? "",
  });
  await Promise.all(
    events.map((event) =>
      recordEvent(kube, cluster, {
        ...event,
        message: traceId
          ? `${event.message} (trace ${traceId})`
          : event.message,
      }, now)
    ),
  );
  writes.push(...events.map((event) => `event ${event.reason}`));
  span?.setAttributes({
    "mysql.phase": status.phase ?? "",
    "mysql.writes": writes.length,
  });

  return {
    key,
    outcome: !check.ok
      ? "invalid"
      : writes.length > 0
      ? "reconciled"
      : "unchanged",
    writes,
    phase: status.phase,
  };
}
