/**
 * The planner: one pure function from what a pass observed (the cluster,
 * its children by kind and name, its pods and volumes), the time and fresh
 * passwords to **everything** the pass will do — the objects to create,
 * apply, patch and delete, the status, the Events — each with why. The
 * edge only reads what {@linkcode readsFor} names, calls {@linkcode plan},
 * and executes the waves it returns. No decision is left to the edge.
 *
 * In the style of metacontroller's sync hooks: data in, data out, tested
 * as scenarios (`plan_test.ts`).
 *
 * @module
 */

import { childNames } from "./child_names.ts";
import {
  type ClusterEvent,
  eventObject,
  transitionEvent,
} from "./cluster_events.ts";
import { type DesiredChild, desiredChildren } from "./children.ts";
import { difference } from "./covers.ts";
import {
  desiredSecret,
  type Passwords,
  volumeExpansions,
} from "./desired_children.ts";
import { KINDS } from "./kinds.ts";
import { TRACE_ANNOTATION } from "./labels.ts";
import type {
  MySQLCluster,
  MySQLClusterStatus,
  Phase,
} from "./mysql_cluster.ts";
import {
  downgradeProblem,
  ROLE_LABEL,
  roleLabelPatches,
} from "./mysql_topology.ts";
import {
  childKey,
  type KubeObject,
  type ObjectRef,
  refOf,
  type StatefulSet,
} from "./objects.ts";
import { followUpReads, type Observed, readsFor } from "./observation.ts";
import { computeStatus, statusChanged } from "./status.ts";
import { checkSpec, type SpecCheck } from "./validate.ts";

/** What the planner is given. */
export interface PlanInput {
  /** What the pass read. */
  observed: Observed;
  /** The current time, RFC 3339 (used only where something changes). */
  now: string;
  /** Fresh passwords, used only if the credentials Secret is created. */
  passwords: Passwords;
  /** The pass's trace id, written beside the status and into Events. */
  traceId?: string;
}

/** How a write shows in the pass's span: an event name and attributes. */
export interface SpanNote {
  /** Event name, e.g. `ensured StatefulSet`. */
  name: string;
  /** Its attributes. */
  attributes: Record<string, string>;
}

/** What every write has besides its operation. */
export interface WriteBase {
  /** What the pass reports once it is done, e.g. `apply StatefulSet db`. */
  summary?: string;
  /** Why it is needed, e.g. `absent`, `spec.replicas differs`. */
  why: string;
  /** The span event recording it. */
  note?: SpanNote;
  /** A failure is logged and the pass goes on (telemetry, never state). */
  bestEffort?: boolean;
  /**
   * What a 404 means: `skip` — the target went away (a pod, a claim), the
   * write is moot; `cluster-gone` — the cluster was deleted during the
   * pass, which ends as if it had been absent. Otherwise a 404 is an error.
   */
  onMissing?: "skip" | "cluster-gone";
}

/** One API write of a pass. */
export type Write =
  & WriteBase
  & (
    /** POST; an existing object (409) is kept, never changed. */
    | { op: "create"; object: KubeObject }
    /** Server-side apply with the operator's field manager. */
    | { op: "apply"; object: KubeObject; subresource?: "status" }
    /** JSON merge patch of a few fields of an object the operator does not own. */
    | { op: "patch"; target: ObjectRef; patch: Record<string, unknown> }
    /** Delete; an absent object is fine. */
    | { op: "delete"; target: ObjectRef }
  );

/** Everything one pass does. */
export interface Plan {
  /** `namespace/name`. */
  key: string;
  /** `invalid`: the spec cannot be reconciled (status says why). */
  outcome: "reconcile" | "invalid" | "deleting";
  /** The cluster's phase after the pass (none while it is being deleted). */
  phase?: Phase;
  /** Why the spec is invalid, when it is. */
  problems: string[];
  /**
   * The writes, in waves: the writes of a wave run concurrently; the next
   * wave starts once every write of the previous one has settled, and only
   * if none failed. Credentials first (pods need them), then the children,
   * then the status, then the Events that report it.
   */
  waves: Write[][];
  /** Children already as desired (no write). */
  unchanged: ObjectRef[];
  /** Whether the status is written. */
  statusChanged: boolean;
}

/** `namespace/name` of a cluster. */
export function clusterKey(cluster: MySQLCluster): string {
  return `${cluster.metadata.namespace ?? "default"}/${cluster.metadata.name}`;
}

function ensured(ref: ObjectRef, action: string): SpanNote {
  return {
    name: `ensured ${ref.kind}`,
    attributes: {
      "k8s.kind": ref.kind,
      "k8s.name": ref.name,
      "mysql.action": action,
    },
  };
}

/**
 * The StatefulSet as it will be stored once `desired` is applied: its spec,
 * a generation one higher when the spec changes (a new one starts at 1),
 * and the status the controller last reported.
 */
function predictedStatefulSet(
  observed: StatefulSet | undefined,
  desired: StatefulSet,
): StatefulSet {
  const bump = !observed ||
    difference(observed.spec, desired.spec) !== undefined;
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      generation: (observed?.metadata?.generation ?? 0) + (bump ? 1 : 0),
    },
    ...(observed?.status ? { status: observed.status } : {}),
  };
}

/** The write that brings one child to its desired state, if one is needed. */
function childWrite(child: DesiredChild): Write | undefined {
  const { ref, object, observed } = child;
  if (!object) {
    if (!observed) return undefined;
    const why = "not wanted at this size";
    return {
      op: "delete",
      target: ref,
      summary: `delete ${ref.kind} ${ref.name}`,
      why,
      note: ensured(ref, "deleted"),
    };
  }
  const differs = observed ? difference(observed, object) : undefined;
  if (observed && differs === undefined) return undefined;
  const why = observed ? `${differs} differs` : "absent";
  return {
    op: "apply",
    object,
    summary: `apply ${ref.kind} ${ref.name}`,
    why,
    note: ensured(ref, "applied"),
  };
}

/** The writes of the children of a valid spec, and what stays unchanged. */
function childrenWrites(
  cluster: MySQLCluster,
  check: Extract<SpecCheck, { ok: true }>,
  input: PlanInput,
): {
  credentials: Write;
  writes: Write[];
  unchanged: ObjectRef[];
  statefulSet?: StatefulSet;
} {
  const { observed } = input;
  const secret = desiredSecret(cluster, check.spec, input.passwords);
  const secretRef = refOf(secret);
  const credentials: Write = {
    op: "create",
    object: secret,
    summary: `create Secret ${secretRef.name}`,
    why: "credentials are created once, never read or replaced",
    note: ensured(secretRef, "created"),
  };
  const writes: Write[] = [];
  const unchanged: ObjectRef[] = [];
  let statefulSet: StatefulSet | undefined;
  for (const child of desiredChildren(cluster, check.spec, observed.children)) {
    const write = childWrite(child);
    if (!write) {
      if (child.object) unchanged.push(child.ref);
      continue;
    }
    writes.push(write);
    if (child.ref.kind === KINDS.StatefulSet.kind && write.op === "apply") {
      statefulSet = predictedStatefulSet(
        child.observed as StatefulSet | undefined,
        write.object as StatefulSet,
      );
    }
  }
  const namespace = cluster.metadata.namespace ?? "default";
  for (const patch of roleLabelPatches(cluster, observed.pods ?? [])) {
    writes.push({
      op: "patch",
      target: { ...KINDS.Pod, namespace, name: patch.name },
      patch: { metadata: { labels: { [ROLE_LABEL]: patch.role } } },
      summary: `label Pod ${patch.name} ${patch.role}`,
      onMissing: "skip",
      why: `the read Service selects pods by ${ROLE_LABEL}`,
      note: {
        name: "labelled Pod",
        attributes: { "k8s.name": patch.name, "mysql.role": patch.role },
      },
    });
  }
  for (
    const { claim, storage } of volumeExpansions(
      cluster,
      check.spec,
      observed.volumeClaims,
    )
  ) {
    const target = {
      ...KINDS.PersistentVolumeClaim,
      namespace: claim.metadata?.namespace ?? namespace,
      name: claim.metadata?.name ?? "",
    };
    const why = `storageSize grew to ${storage}`;
    writes.push({
      op: "patch",
      target,
      patch: { spec: { resources: { requests: { storage } } } },
      summary: `expand PersistentVolumeClaim ${target.name} to ${storage}`,
      onMissing: "skip",
      why,
      note: ensured(target, "expanded"),
    });
  }
  return {
    credentials,
    writes,
    unchanged,
    ...(statefulSet ? { statefulSet } : {}),
  };
}

/** The status write (and the trace id beside it, best effort). */
function statusWrites(
  cluster: MySQLCluster,
  status: MySQLClusterStatus,
  traceId: string | undefined,
): Write[] {
  const { apiVersion, kind } = cluster;
  const { name, namespace } = cluster.metadata;
  const writes: Write[] = [{
    op: "apply",
    subresource: "status",
    object: { apiVersion, kind, metadata: { name, namespace }, status },
    summary: "status",
    why: "the observed state changed",
    onMissing: "cluster-gone",
    note: {
      name: "status written",
      attributes: { "mysql.phase": status.phase ?? "" },
    },
  }];
  if (traceId) {
    writes.push({
      op: "apply",
      object: {
        apiVersion,
        kind,
        metadata: {
          name,
          namespace,
          annotations: { [TRACE_ANNOTATION]: traceId },
        },
      },
      why: "kubectl describe leads to the trace that wrote the status",
      bestEffort: true,
      onMissing: "cluster-gone",
    });
  }
  return writes;
}

/** Plans one pass over an observed cluster. Pure: same input, same plan. */
export function plan(input: PlanInput): Plan {
  const { cluster } = input.observed;
  const key = clusterKey(cluster);
  if (cluster.metadata.deletionTimestamp) {
    // ownerReferences let the garbage collector remove the children
    return {
      key,
      outcome: "deleting",
      problems: [],
      waves: [],
      unchanged: [],
      statusChanged: false,
    };
  }
  const observedStatefulSet = input.observed.children.get(
    childKey(KINDS.StatefulSet.kind, childNames(cluster).statefulSet),
  ) as StatefulSet | undefined;
  let check = checkSpec(cluster);
  // MySQL cannot downgrade a data directory: refuse, and change nothing
  const downgrade = check.ok
    ? downgradeProblem(check.spec.version, observedStatefulSet)
    : undefined;
  if (downgrade) check = { ok: false, problems: [downgrade] };

  const children = check.ok ? childrenWrites(cluster, check, input) : undefined;
  const statefulSet = children?.statefulSet ?? observedStatefulSet;
  const status = computeStatus(
    cluster,
    check,
    statefulSet,
    input.now,
    input.observed.pods,
  );
  const changed = statusChanged(cluster.status, status);
  const events: ClusterEvent[] = [];
  if (!observedStatefulSet && children?.statefulSet) {
    events.push({
      type: "Normal",
      reason: "Created",
      message: `created the Services and the StatefulSet ${
        childNames(cluster).statefulSet
      }`,
    });
  }
  const transition = changed
    ? transitionEvent(cluster.status, status)
    : undefined;
  if (transition) events.push(transition);
  const suffix = input.traceId ? ` (trace ${input.traceId})` : "";
  const eventWrites: Write[] = events.map((event) => ({
    op: "create",
    object: eventObject(
      cluster,
      { ...event, message: event.message + suffix },
      input.now,
    ),
    summary: `event ${event.reason}`,
    why: event.reason === "Created"
      ? "the StatefulSet was created"
      : `phase ${status.phase}`,
  }));
  return {
    key,
    outcome: check.ok ? "reconcile" : "invalid",
    ...(status.phase ? { phase: status.phase } : {}),
    problems: check.ok ? [] : check.problems,
    waves: [
      children ? [children.credentials] : [],
      children?.writes ?? [],
      changed ? statusWrites(cluster, status, input.traceId) : [],
      eventWrites,
    ].filter((wave) => wave.length > 0),
    unchanged: children?.unchanged ?? [],
    statusChanged: changed,
  };
}

/**
 * The API requests a pass makes for `plan`: the cluster's read, the reads
 * of {@linkcode readsFor} and {@linkcode followUpReads}, and every write.
 */
export function plannedRequests(observed: Observed, plan: Plan): number {
  const { cluster, children } = observed;
  return 1 + readsFor(cluster).length +
    followUpReads(cluster, children).length +
    plan.waves.reduce((sum, wave) => sum + wave.length, 0);
}
