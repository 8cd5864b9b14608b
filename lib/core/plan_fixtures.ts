/**
 * Scenarios of whole passes, as data (in the style of kube-rs
 * controller-rs `fixtures.rs`): what a pass observed — the cluster, its
 * children as the apiserver stores them, its pods and volumes — and what
 * its plan must be: every write in wave order, the phase, the Ready
 * reason, the Events and the number of API requests the pass makes.
 *
 * @module
 */

import { DATA_VOLUME } from "./child_names.ts";
import { selectorLabels } from "./labels.ts";
import type { MySQLCluster, MySQLClusterSpec, Phase } from "./mysql_cluster.ts";
import { ROLE_LABEL } from "./mysql_topology.ts";
import {
  childKey,
  type KubeObject,
  type PersistentVolumeClaim,
  type Pod,
  type StatefulSet,
} from "./objects.ts";
import { type Observed, observedStatefulSet } from "./observation.ts";
import { type Plan, plan, type Write } from "./plan.ts";
import { clusterFixture } from "./test_fixtures.ts";

/** When the scenarios happen. */
export const NOW = "2026-12-01T10:00:00Z";
/** The passwords every scenario draws. */
export const PASSWORDS = {
  root: "r".repeat(32),
  replication: "l".repeat(32),
  probe: "p".repeat(32),
};
/** The trace id of every scenario's pass. */
export const TRACE_ID = "0af7651916cd43dd8448eb211c80319c";

/** What a scenario's plan must be. */
export interface Expected {
  /** The plan's outcome. */
  outcome: Plan["outcome"];
  /** The phase after the pass. */
  phase?: Phase;
  /** The Ready condition's reason. */
  reason?: string;
  /** Every write as `op Kind name`, wave by wave. */
  waves: string[][];
  /** The Events recorded, as `type/reason`. */
  events: string[];
  /** API requests of the whole pass: reads, then writes. */
  requests: number;
}

/** A pass as data: what was observed and what the plan must be. */
export interface Scenario {
  /** What the scenario is. */
  name: string;
  /** What the pass read. */
  observed: Observed;
  /** Without a trace id (telemetry off). */
  untraced?: boolean;
  /** What its plan must be. */
  expect: Expected;
}

/** A write as `op Kind name` (`/status` for the status subresource). */
export function describeWrite(write: Write): string {
  if (write.op === "patch" || write.op === "delete") {
    return `${write.op} ${write.target.kind} ${write.target.name}`;
  }
  const { kind, metadata } = write.object;
  const name = metadata?.name ?? metadata?.generateName ?? "";
  const sub = write.op === "apply" && write.subresource ? "/status" : "";
  return `${write.op} ${kind} ${name}${sub}`;
}

/** An object as the apiserver stores it: with uid, resourceVersion and generation. */
function stored<T extends KubeObject>(object: T, generation = 1): T {
  const copy = structuredClone(object);
  copy.metadata = {
    ...copy.metadata,
    uid: `uid-${copy.kind}-${copy.metadata?.name}`,
    resourceVersion: "100",
    generation,
    creationTimestamp: "2026-11-30T09:00:00Z",
  };
  return copy;
}

/** The cluster after a pass wrote `status` (as the next event reads it). */
function withStatus(cluster: MySQLCluster, last: Plan): MySQLCluster {
  const write = last.waves.flat().find((w) =>
    w.op === "apply" && w.subresource === "status"
  );
  const status = write?.op === "apply"
    ? (write.object.status as MySQLCluster["status"])
    : cluster.status;
  return { ...structuredClone(cluster), ...(status ? { status } : {}) };
}

/** The children a pass applied, as the apiserver stores them. */
function appliedChildren(last: Plan): Map<string, KubeObject> {
  const children = new Map<string, KubeObject>();
  for (const write of last.waves.flat()) {
    if (
      write.op !== "apply" || write.subresource ||
      write.object.kind === "MySQLCluster"
    ) continue;
    const object = stored(write.object);
    children.set(childKey(object.kind!, object.metadata!.name!), object);
  }
  return children;
}

/** The uid every scenario's StatefulSet is stored with. */
const STATEFUL_SET_UID = "uid-StatefulSet-db";

/**
 * A pod of the cluster's StatefulSet (controlled by it unless `owner` is
 * `null`): its ordinal, role label and readiness.
 */
function pod(
  cluster: MySQLCluster,
  ordinal: number,
  role: string | undefined,
  ready: boolean,
  owner: string | null = STATEFUL_SET_UID,
): Pod {
  const name = `${cluster.metadata.name}-${ordinal}`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: cluster.metadata.namespace,
      labels: {
        ...selectorLabels(cluster),
        ...(role ? { [ROLE_LABEL]: role } : {}),
      },
      ...(owner
        ? {
          ownerReferences: [{
            apiVersion: "apps/v1",
            kind: "StatefulSet",
            name: cluster.metadata.name,
            uid: owner,
            controller: true,
          }],
        }
        : {}),
    },
    status: {
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  };
}

/** An object of a child's name that someone else made and controls. */
function foreign(kind: string, apiVersion: string, name: string): KubeObject {
  return {
    apiVersion,
    kind,
    metadata: {
      name,
      namespace: "shop",
      uid: `uid-foreign-${name}`,
      ownerReferences: [{
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: "web",
        uid: "uid-web",
        controller: true,
      }],
      managedFields: [{ manager: "kubectl", operation: "Apply" }],
    },
  };
}

/** The cluster's data PVCs of `storage` each. */
function claims(
  cluster: MySQLCluster,
  count: number,
  storage: string,
): PersistentVolumeClaim[] {
  return Array.from({ length: count }, (_, i) => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: `${DATA_VOLUME}-${cluster.metadata.name}-${i}`,
      namespace: cluster.metadata.namespace,
      labels: selectorLabels(cluster),
    },
    spec: { resources: { requests: { storage } } },
  }));
}

/** The StatefulSet's status as the controller reports it. */
function rolledOut(
  statefulSet: StatefulSet,
  ready: number,
  replicas = statefulSet.spec?.replicas ?? 1,
): StatefulSet {
  return {
    ...statefulSet,
    status: {
      observedGeneration: statefulSet.metadata?.generation ?? 1,
      replicas,
      readyReplicas: ready,
      updatedReplicas: replicas,
    },
  };
}

/** The StatefulSet among `children`. */
function statefulSetOf(
  cluster: MySQLCluster,
  children: Map<string, KubeObject>,
): StatefulSet {
  const found = observedStatefulSet(cluster, children);
  if (!found) throw new Error("no StatefulSet observed");
  return found;
}

/** A cluster that has had one pass (create) and whose children exist. */
function afterCreate(spec: Partial<MySQLClusterSpec>): {
  cluster: MySQLCluster;
  children: Map<string, KubeObject>;
} {
  const fresh = clusterFixture(spec);
  const created = plan({
    observed: {
      cluster: fresh,
      children: new Map(),
      pods: [],
      credentials: { exists: false },
    },
    now: NOW,
    passwords: PASSWORDS,
    traceId: TRACE_ID,
  });
  return {
    cluster: withStatus(fresh, created),
    children: appliedChildren(created),
  };
}

/**
 * `base`'s children with its StatefulSet rolled out, as many replicas ready
 * as `podsReady` has ready pods, and a pod per entry of `podsReady` (pod 0
 * the primary, the others replicas).
 */
function rolledOutWithPods(
  base: { cluster: MySQLCluster; children: Map<string, KubeObject> },
  podsReady: boolean[],
): { children: Map<string, KubeObject>; pods: Pod[] } {
  const { cluster } = base;
  const ready = podsReady.filter((podReady) => podReady).length;
  return {
    children: new Map([
      ...base.children,
      [
        childKey("StatefulSet", "db"),
        rolledOut(statefulSetOf(cluster, base.children), ready),
      ],
    ]),
    pods: podsReady.map((podReady, i) =>
      pod(cluster, i, i === 0 ? "primary" : "replica", podReady)
    ),
  };
}

/** A cluster whose StatefulSet reports every replica ready, status already Ready. */
function readyCluster(spec: Partial<MySQLClusterSpec>): {
  cluster: MySQLCluster;
  children: Map<string, KubeObject>;
  pods: Pod[];
} {
  const created = afterCreate(spec);
  const { cluster } = created;
  const sts = statefulSetOf(cluster, created.children);
  const { children, pods } = rolledOutWithPods(
    created,
    Array.from({ length: sts.spec?.replicas ?? 1 }, () => true),
  );
  const ready = plan({
    observed: { cluster, children, pods },
    now: NOW,
    passwords: PASSWORDS,
  });
  return { cluster: withStatus(cluster, ready), children, pods };
}

const CHILDREN_3 = [
  "apply ConfigMap db-config",
  "apply Service db",
  "apply Service db-mysql",
  "apply Service db-mysql-read",
  "apply StatefulSet db",
  "apply PodDisruptionBudget db",
];
const SECRET = ["create Secret db-credentials"];
const STATUS = ["apply MySQLCluster db/status"];
/** The status of a creation and its "Created" Event, together. */
const CREATED = [...STATUS, "create Event db."];

/** A new cluster blocked by an object of a child's name: status and a Warning only. */
const BLOCKED: Expected = {
  outcome: "blocked",
  phase: "Blocked",
  reason: "ChildConflict",
  waves: [STATUS, ["create Event db."]],
  events: ["Warning/ChildConflict"],
  requests: 11,
};

/** Every scenario the planner is tested on. */
export function scenarios(): Scenario[] {
  const three = afterCreate({ replicas: 3 });
  const threeStatefulSet = statefulSetOf(three.cluster, three.children);
  const ready = readyCluster({ replicas: 3 });
  const single = afterCreate({ replicas: 1 });
  const pinned = afterCreate({ replicas: 3, version: "8.4.3" });
  const fresh = clusterFixture({ replicas: 3 });
  const ownLabels = {
    ...selectorLabels(fresh),
    "app.kubernetes.io/component": "credentials",
    "app.kubernetes.io/managed-by": "mysql-operator-fn",
  };
  return [
    {
      name:
        "create: a new 3-replica cluster gets every child, a status and an Event",
      observed: {
        cluster: fresh,
        children: new Map(),
        pods: [],
        credentials: { exists: false },
      },
      expect: {
        outcome: "reconcile",
        phase: "Provisioning",
        reason: "RollingOut",
        waves: [SECRET, CHILDREN_3, CREATED],
        events: ["Normal/Created"],
        // cluster; 6 children, pods; the Secret's metadata; Secret, 6
        // applies; status, Event
        requests: 18,
      },
    },
    {
      name: "no-op: an unchanged cluster reads and writes nothing",
      observed: { ...three, pods: [] },
      expect: {
        outcome: "reconcile",
        phase: "Provisioning",
        reason: "RollingOut",
        waves: [],
        events: [],
        // cluster; 6 children, pods (its StatefulSet is its own: the
        // Secret was settled when it was made)
        requests: 8,
      },
    },
    {
      name: "status change: the StatefulSet became ready",
      observed: {
        cluster: three.cluster,
        ...rolledOutWithPods(three, [true, true, true]),
      },
      expect: {
        outcome: "reconcile",
        phase: "Ready",
        reason: "AllReplicasReady",
        waves: [STATUS, ["create Event db."]],
        events: ["Normal/Ready"],
        requests: 10,
      },
    },
    {
      name: "Ready → Degraded: a replica stopped being ready",
      observed: {
        cluster: ready.cluster,
        ...rolledOutWithPods(ready, [true, true, false]),
      },
      expect: {
        outcome: "reconcile",
        phase: "Degraded",
        reason: "ReplicasNotReady",
        waves: [STATUS, ["create Event db."]],
        events: ["Warning/Degraded"],
        requests: 10,
      },
    },
    {
      name: "scale 3 → 1: the StatefulSet shrinks and the budget goes",
      observed: {
        cluster: {
          ...three.cluster,
          spec: { ...three.cluster.spec, replicas: 1 },
        },
        children: three.children,
      },
      expect: {
        outcome: "reconcile",
        phase: "Provisioning",
        reason: "RollingOut",
        waves: [
          ["apply StatefulSet db", "delete PodDisruptionBudget db"],
          STATUS,
        ],
        events: [],
        // cluster, 6 children, the pods (read ahead, unused at one replica);
        // 2; status
        requests: 11,
      },
    },
    {
      name: "scale 1 → 3: the StatefulSet grows and gets a budget",
      observed: {
        cluster: {
          ...single.cluster,
          spec: { ...single.cluster.spec, replicas: 3 },
        },
        children: single.children,
        pods: [pod(single.cluster, 0, "primary", false)],
      },
      expect: {
        outcome: "reconcile",
        phase: "Provisioning",
        reason: "RollingOut",
        waves: [
          ["apply StatefulSet db", "apply PodDisruptionBudget db"],
          STATUS,
        ],
        events: [],
        requests: 11,
      },
    },
    {
      name:
        "upgrade 8.4.3 → 8.4.4: every child takes the new version label, the pods the new image",
      observed: {
        cluster: {
          ...pinned.cluster,
          spec: { ...pinned.cluster.spec, version: "8.4.4" },
        },
        children: pinned.children,
        pods: [],
      },
      expect: {
        outcome: "reconcile",
        phase: "Provisioning",
        reason: "RollingOut",
        waves: [CHILDREN_3],
        events: [],
        // the status does not change: it was already rolling out
        requests: 14,
      },
    },
    {
      name: "downgrade refused: nothing is written but the status and an Event",
      observed: {
        cluster: {
          ...pinned.cluster,
          spec: { ...pinned.cluster.spec, version: "8.4.2" },
        },
        children: pinned.children,
        pods: [],
      },
      expect: {
        outcome: "invalid",
        phase: "Invalid",
        reason: "InvalidSpec",
        waves: [STATUS, ["create Event db."]],
        events: ["Warning/InvalidSpec"],
        requests: 10,
      },
    },
    {
      name: "storage growth: the PVCs grow, the immutable claim template stays",
      observed: {
        cluster: {
          ...three.cluster,
          spec: { ...three.cluster.spec, storageSize: "20Gi" },
        },
        children: three.children,
        pods: [],
        volumeClaims: claims(three.cluster, 3, "10Gi"),
      },
      expect: {
        outcome: "reconcile",
        phase: "Provisioning",
        reason: "RollingOut",
        waves: [[
          "patch PersistentVolumeClaim data-db-0",
          "patch PersistentVolumeClaim data-db-1",
          "patch PersistentVolumeClaim data-db-2",
        ]],
        events: [],
        // cluster, 6 children, pods, PVCs; 3 patches
        requests: 12,
      },
    },
    {
      name: "invalid spec: Ready=False/InvalidSpec, nothing created",
      observed: {
        cluster: clusterFixture({ version: "latest", storageSize: "10 gigs" }),
        children: new Map(),
      },
      expect: {
        outcome: "invalid",
        phase: "Invalid",
        reason: "InvalidSpec",
        waves: [STATUS, ["create Event db."]],
        events: ["Warning/InvalidSpec"],
        requests: 10,
      },
    },
    {
      name: "invalid spec without tracing: the status carries no trace id",
      untraced: true,
      observed: {
        cluster: clusterFixture({ replicas: -1 }),
        children: new Map(),
      },
      expect: {
        outcome: "invalid",
        phase: "Invalid",
        reason: "InvalidSpec",
        waves: [STATUS, ["create Event db."]],
        events: ["Warning/InvalidSpec"],
        requests: 10,
      },
    },
    {
      name:
        "deletion: a cluster being deleted is left to the garbage collector",
      observed: {
        cluster: {
          ...three.cluster,
          metadata: { ...three.cluster.metadata, deletionTimestamp: NOW },
        },
        children: new Map(),
      },
      // the reads ahead go with the cluster's, before it is known to be going
      expect: { outcome: "deleting", waves: [], events: [], requests: 8 },
    },
    {
      name: "stop: replicas 0 keeps the data and reports Stopped",
      observed: {
        cluster: {
          ...three.cluster,
          spec: { ...three.cluster.spec, replicas: 0 },
        },
        children: three.children,
      },
      expect: {
        outcome: "reconcile",
        phase: "Stopped",
        reason: "ScaledToZero",
        waves: [
          ["apply StatefulSet db", "delete PodDisruptionBudget db"],
          STATUS,
          ["create Event db."],
        ],
        events: ["Normal/Stopped"],
        requests: 12,
      },
    },
    {
      name:
        "role labels: pods of its StatefulSet without the right role label get it, others are left alone",
      observed: {
        cluster: ready.cluster,
        children: ready.children,
        pods: [
          pod(ready.cluster, 0, undefined, true),
          pod(ready.cluster, 1, "primary", true),
          pod(ready.cluster, 2, "replica", true),
          pod(ready.cluster, 3, undefined, true, null),
          pod(ready.cluster, 4, undefined, true, "uid-someone-else"),
        ],
      },
      expect: {
        outcome: "reconcile",
        phase: "Ready",
        reason: "AllReplicasReady",
        waves: [["patch Pod db-0", "patch Pod db-1"]],
        events: [],
        requests: 10,
      },
    },
    {
      name:
        "conflict: a Service of a child's name that someone else controls blocks the cluster, nothing is written",
      observed: {
        cluster: fresh,
        children: new Map([[
          childKey("Service", "db-mysql"),
          foreign("Service", "v1", "db-mysql"),
        ]]),
        pods: [],
        credentials: { exists: false },
      },
      expect: BLOCKED,
    },
    {
      name:
        "conflict: a PodDisruptionBudget of the name that is someone else's is not deleted at one replica",
      observed: {
        cluster: single.cluster,
        children: new Map([
          ...single.children,
          [
            childKey("PodDisruptionBudget", "db"),
            foreign("PodDisruptionBudget", "policy/v1", "db"),
          ],
        ]),
      },
      expect: {
        outcome: "reconcile",
        phase: "Provisioning",
        reason: "RollingOut",
        waves: [],
        events: [],
        requests: 8,
      },
    },
    {
      name:
        "conflict: a Secret of the credentials' name without this cluster's labels blocks it",
      observed: {
        cluster: fresh,
        children: new Map(),
        pods: [],
        credentials: {
          exists: true,
          metadata: { name: "db-credentials", labels: { team: "web" } },
        },
      },
      expect: BLOCKED,
    },
    {
      name:
        "conflict: a Secret the admission policy would not show is not this operator's",
      observed: {
        cluster: fresh,
        children: new Map(),
        pods: [],
        credentials: {
          exists: true,
          refused: "ValidatingAdmissionPolicy denied request",
        },
      },
      expect: BLOCKED,
    },
    {
      name:
        "Retain: a Secret labelled for a cluster of this name is reused, never created again",
      observed: {
        cluster: fresh,
        children: new Map(),
        pods: [],
        credentials: {
          exists: true,
          metadata: { name: "db-credentials", labels: ownLabels },
        },
      },
      expect: {
        outcome: "reconcile",
        phase: "Provisioning",
        reason: "RollingOut",
        waves: [CHILDREN_3, CREATED],
        events: ["Normal/Created"],
        requests: 17,
      },
    },
    {
      name:
        "an earlier cluster's StatefulSet of the name blocks until the garbage collector removes it",
      observed: {
        cluster: fresh,
        children: new Map([[childKey("StatefulSet", "db"), {
          ...threeStatefulSet,
          metadata: {
            ...threeStatefulSet.metadata,
            ownerReferences: [{
              apiVersion: "database.example.com/v1",
              kind: "MySQLCluster",
              name: "db",
              uid: "uid-of-an-earlier-db",
              controller: true,
            }],
          },
        }]]),
        pods: [],
        credentials: {
          exists: true,
          metadata: { name: "db-credentials", labels: ownLabels },
        },
      },
      expect: BLOCKED,
    },
    {
      name:
        "an orphan the operator made (no controller, its field manager) is adopted",
      observed: {
        cluster: fresh,
        children: new Map([[childKey("ConfigMap", "db-config"), {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name: "db-config",
            namespace: "shop",
            managedFields: [{
              manager: "mysql-operator-fn",
              operation: "Apply",
            }],
          },
        }]]),
        pods: [],
        credentials: { exists: false },
      },
      expect: {
        outcome: "reconcile",
        phase: "Provisioning",
        reason: "RollingOut",
        waves: [SECRET, CHILDREN_3, CREATED],
        events: ["Normal/Created"],
        requests: 18,
      },
    },
  ];
}
