/**
 * The planner: one pure function from what a pass observed (the cluster,
 * its children by kind and name, its pods and volumes), the time and fresh
 * passwords to **everything** the pass will do — the objects to create,
 * apply, patch and delete, the status, the Events — each with why. The
 * edge only reads what `observation.ts` names, calls {@linkcode plan},
 * and executes the waves it returns. No decision is left to the edge.
 *
 * In the style of metacontroller's sync hooks: data in, data out, tested
 * as scenarios (`plan_test.ts`).
 *
 * @module
 */

import { childNames, clusterNamespace } from "./child_names.ts";
import {
  type ClusterEvent,
  eventObject,
  transitionEvent,
} from "./cluster_events.ts";
import {
  credentialsRef,
  type DesiredChild,
  desiredChildren,
} from "./children.ts";
import { difference } from "./covers.ts";
import {
  desiredSecret,
  observedClaimSpec,
  type Passwords,
  volumeExpansions,
} from "./desired_children.ts";
import { KINDS } from "./kinds.ts";
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
import type { KubeObject, ObjectRef, Pod, StatefulSet } from "./objects.ts";
import {
  followUpReads,
  type Observed,
  observedStatefulSet as observedStatefulSetOf,
  readsAhead,
} from "./observation.ts";
import { credentialsOwnership, ownershipOf, podOf } from "./ownership.ts";
import { computeStatus, statusChanged } from "./status.ts";
import {
  checkSpec,
  checkTransition,
  type EffectiveSpec,
  validStatus,
} from "./validate.ts";
import { parseQuantity } from "./quantity.ts";

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
  summary: string;
  /** Why it is needed, e.g. `absent`, `spec.replicas differs`. */
  why: string;
  /** The span event recording it. */
  note?: SpanNote;
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
  /**
   * `invalid`: the spec cannot be reconciled; `blocked`: an object of a
   * child's name belongs to someone else (status says which).
   */
  outcome: "reconcile" | "invalid" | "blocked" | "deleting";
  /** The cluster's phase after the pass (none while it is being deleted). */
  phase?: Phase;
  /** Why the spec is invalid, or what blocks the cluster. */
  problems: string[];
  /**
   * The writes, in waves: the writes of a wave run concurrently; the next
   * wave starts once every write of the previous one has settled, and only
   * if none failed. Credentials first (pods need them), then the children,
   * then the status (with the pass's trace id) and a creation's `Created`
   * Event, then a transition's Event.
   */
  waves: Write[][];
  /** Children already as desired (no write). */
  unchanged: ObjectRef[];
  /** Whether the status is written. */
  statusChanged: boolean;
}

/** `namespace/name` of a cluster. */
export function clusterKey(cluster: MySQLCluster): string {
  return `${clusterNamespace(cluster)}/${cluster.metadata.name}`;
}

/** The span note of a child `action`ed (`applied`, `unchanged`…). */
export function ensured(ref: ObjectRef, action: string): SpanNote {
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

/** A reference to `name` of `kind` in `namespace`. */
function refTo(
  kind: { apiVersion: string; kind: string },
  namespace: string,
  name: string,
): ObjectRef {
  return { apiVersion: kind.apiVersion, kind: kind.kind, namespace, name };
}

/** `Kind namespace/name` for messages. */
function describe(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/**
 * The write that brings one child to its desired state, if one is needed
 * and allowed; a conflict when an object of its name belongs to another.
 */
function childWrite(
  child: DesiredChild,
  cluster: MySQLCluster,
): { write?: Write; conflict?: string } {
  const { ref, object, observed } = child;
  const ownership = observed ? ownershipOf(observed, cluster) : undefined;
  if (!object) {
    // not wanted: delete ours; someone else's is not in the way
    if (!observed || ownership?.owner === "other") return {};
    const why = "not wanted at this size";
    return {
      write: {
        op: "delete",
        target: ref,
        summary: `delete ${ref.kind} ${ref.name}`,
        why,
        note: ensured(ref, "deleted"),
      },
    };
  }
  if (ownership?.owner === "other") {
    return { conflict: `${describe(ref)} ${ownership.why}` };
  }
  const differs = observed ? difference(observed, object) : undefined;
  if (observed && differs === undefined && ownership?.owner === "this") {
    return {};
  }
  const why = !observed
    ? "absent"
    : ownership?.owner === "orphan"
    ? "an orphan of the operator's: adopted"
    : `${differs} differs`;
  return {
    write: {
      op: "apply",
      object,
      summary: `apply ${ref.kind} ${ref.name}`,
      why,
      note: ensured(ref, "applied"),
    },
  };
}

/** The credentials write, or why the existing Secret blocks the cluster. */
function credentialsWrite(
  cluster: MySQLCluster,
  spec: EffectiveSpec,
  input: PlanInput,
): { write?: Write; conflict?: string } {
  const seen = input.observed.credentials;
  const ref = credentialsRef(cluster);
  // not looked at: this cluster's StatefulSet exists, so it was settled then
  if (!seen) return {};
  if (!seen.exists) {
    return {
      write: {
        op: "create",
        object: desiredSecret(cluster, spec, input.passwords),
        summary: `create Secret ${ref.name}`,
        why: "absent: credentials are created once, never read or replaced",
        note: ensured(ref, "created"),
      },
    };
  }
  if ("refused" in seen) {
    return {
      conflict: `${describe(ref)} is not this operator's: ${seen.refused}`,
    };
  }
  const ownership = credentialsOwnership(seen.metadata, cluster);
  return ownership.owner === "other"
    ? { conflict: `${describe(ref)} ${ownership.why}` }
    : {};
}

/** What the children of a valid spec need: writes, or what blocks them. */
interface ChildrenPlan {
  /** The credentials Secret, created first (pods need it). */
  credentials: Write[];
  /** Children, role labels, volume growth: at once. */
  writes: Write[];
  unchanged: ObjectRef[];
  /** Objects of children's names that belong to someone else. */
  conflicts: string[];
  /** The StatefulSet as the pass will leave it, when it applies one. */
  statefulSet?: StatefulSet;
}

/**
 * The writes of the children of a valid spec, and what stays unchanged;
 * `pods` are the pods of this cluster's StatefulSet (when listed).
 */
function childrenPlan(
  cluster: MySQLCluster,
  spec: EffectiveSpec,
  input: PlanInput,
  pods: Pod[] | undefined,
): ChildrenPlan {
  const { observed } = input;
  const conflicts: string[] = [];
  const credentials = credentialsWrite(cluster, spec, input);
  if (credentials.conflict) conflicts.push(credentials.conflict);
  const writes: Write[] = [];
  const unchanged: ObjectRef[] = [];
  let statefulSet: StatefulSet | undefined;
  for (const child of desiredChildren(cluster, spec, observed.children)) {
    const { write, conflict } = childWrite(child, cluster);
    if (conflict) conflicts.push(conflict);
    if (!write) {
      if (child.object && !conflict) unchanged.push(child.ref);
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
  const namespace = clusterNamespace(cluster);
  for (const patch of roleLabelPatches(cluster, pods ?? [])) {
    writes.push({
      op: "patch",
      target: refTo(KINDS.Pod, namespace, patch.name),
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
      spec,
      observed.volumeClaims,
    )
  ) {
    const target = refTo(
      KINDS.PersistentVolumeClaim,
      claim.metadata?.namespace ?? namespace,
      claim.metadata?.name ?? "",
    );
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
  if (conflicts.length > 0) {
    // nothing is written to any child while one of them is someone else's
    return { credentials: [], writes: [], unchanged: [], conflicts };
  }
  return {
    credentials: credentials.write ? [credentials.write] : [],
    writes,
    unchanged,
    conflicts,
    ...(statefulSet ? { statefulSet } : {}),
  };
}

/** The status write. */
function statusWrite(
  cluster: MySQLCluster,
  status: MySQLClusterStatus,
): Write {
  const { apiVersion, kind } = cluster;
  const { name, namespace } = cluster.metadata;
  return {
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
  };
}

/**
 * What the running cluster was made with, as far as its StatefulSet (and
 * its volumes, when listed) show: the storage size and deletion policy.
 */
function running(
  statefulSet: StatefulSet | undefined,
  observed: Observed,
): { storageSize?: string; deletionPolicy?: string } {
  if (
    !statefulSet || ownershipOf(statefulSet, observed.cluster).owner !== "this"
  ) {
    return {};
  }
  const sizes = [
    observedClaimSpec(statefulSet)?.resources?.requests?.storage,
    ...(observed.volumeClaims ?? []).map((claim) =>
      claim.spec?.resources?.requests?.storage
    ),
  ].filter((size): size is string => size !== undefined);
  const largest = sizes.reduce<string | undefined>(
    (max, size) =>
      max === undefined ||
        (parseQuantity(size) ?? 0) > (parseQuantity(max) ?? 0)
        ? size
        : max,
    undefined,
  );
  const policy = statefulSet.spec?.persistentVolumeClaimRetentionPolicy
    ?.whenDeleted;
  return {
    ...(largest !== undefined ? { storageSize: largest } : {}),
    ...(policy !== undefined ? { deletionPolicy: policy } : {}),
  };
}

/** Plans one pass over an observed cluster. Pure: same input, same plan. */
export function plan(input: PlanInput): Plan {
  // a status stored past an older schema is read for what is well-formed
  const cluster: MySQLCluster = {
    ...input.observed.cluster,
    status: validStatus(input.observed.cluster.status),
  };
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
  const observedStatefulSet = observedStatefulSetOf(
    cluster,
    input.observed.children,
  );
  // only pods of this cluster's StatefulSet count (and get a role label);
  // undefined: the pods were not listed
  const pods = input.observed.pods?.filter((pod) =>
    podOf(pod, observedStatefulSet)
  );
  let check = checkSpec(cluster);
  if (check.ok) {
    // what the CRD refuses against the previous spec, checked against what
    // runs: MySQL cannot downgrade a data directory, volumes cannot
    // shrink, the deletion policy is fixed — refuse, and change nothing
    const downgrade = downgradeProblem(check.spec.version, observedStatefulSet);
    const problems = [
      ...(downgrade ? [downgrade] : []),
      ...checkTransition(
        check.spec,
        running(observedStatefulSet, input.observed),
      ),
    ];
    if (problems.length > 0) check = { ok: false, problems };
  }

  const children = check.ok
    ? childrenPlan(cluster, check.spec, input, pods)
    : undefined;
  const blocked = (children?.conflicts.length ?? 0) > 0;
  const status = computeStatus(
    cluster,
    check,
    children?.statefulSet ?? observedStatefulSet,
    input.now,
    pods,
    {
      blockers: children?.conflicts ?? [],
      ...(input.traceId ? { traceId: input.traceId } : {}),
    },
  );
  const changed = statusChanged(cluster.status, status);
  const created: ClusterEvent | undefined =
    !observedStatefulSet && children?.statefulSet
      ? {
        type: "Normal",
        reason: "Created",
        message: `created the Services and the StatefulSet ${
          childNames(cluster).statefulSet
        }`,
      }
      : undefined;
  const transition = changed
    ? transitionEvent(cluster.status, status)
    : undefined;
  const suffix = input.traceId ? ` (trace ${input.traceId})` : "";
  const eventWrite = (event: ClusterEvent, why: string): Write => ({
    op: "create",
    object: eventObject(
      cluster,
      { ...event, message: event.message + suffix },
      input.now,
    ),
    summary: `event ${event.reason}`,
    why,
  });
  return {
    key,
    outcome: !check.ok ? "invalid" : blocked ? "blocked" : "reconcile",
    ...(status.phase ? { phase: status.phase } : {}),
    problems: !check.ok ? check.problems : children?.conflicts ?? [],
    waves: [
      children?.credentials ?? [],
      children?.writes ?? [],
      // "Created" is true once the children's wave is done, so it goes with
      // the status (one round trip less); a transition's Event waits for the
      // status it reports (a failed status write would repeat it)
      [
        ...(changed ? [statusWrite(cluster, status)] : []),
        ...(created
          ? [eventWrite(created, "the StatefulSet was created")]
          : []),
      ],
      transition ? [eventWrite(transition, `phase ${status.phase}`)] : [],
    ].filter((wave) => wave.length > 0),
    unchanged: children?.unchanged ?? [],
    statusChanged: changed,
  };
}

/**
 * The API requests a pass makes for `plan`: the cluster's read with those
 * of {@linkcode readsAhead}, those of {@linkcode followUpReads}, and every
 * write.
 */
export function plannedRequests(observed: Observed, plan: Plan): number {
  const { cluster, children } = observed;
  // sent with the cluster's read, whatever it turns out to be
  const ahead = readsAhead(clusterNamespace(cluster), cluster.metadata.name);
  return 1 + ahead.length + followUpReads(cluster, children).length +
    plan.waves.reduce((sum, wave) => sum + wave.length, 0);
}
