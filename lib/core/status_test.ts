import assert from "node:assert/strict";
import type { KubeObject } from "./objects.ts";
import type { MySQLCluster, MySQLClusterSpec } from "./mysql_cluster.ts";
import { computeStatus, sameJson, statusChanged } from "./status.ts";
import { clusterFixture } from "./test_fixtures.ts";
import { checkSpec } from "./validate.ts";

const T0 = "2026-11-25T10:00:00Z";
const T1 = "2026-11-25T11:00:00Z";

function sts(status: Record<string, number>, generation = 2): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "db", generation },
    status: { observedGeneration: generation, ...status },
  };
}

function rolledOut(replicas: number, readyReplicas: number): KubeObject {
  return sts({ replicas, updatedReplicas: replicas, readyReplicas });
}

function statusOf(
  cluster: MySQLCluster,
  statefulSet: KubeObject | undefined,
  now = T0,
) {
  return computeStatus(cluster, checkSpec(cluster), statefulSet, now);
}

function withStatus(
  spec: Partial<MySQLClusterSpec>,
  statefulSet: KubeObject | undefined,
) {
  const cluster = clusterFixture(spec);
  cluster.status = statusOf(cluster, statefulSet);
  return cluster;
}

Deno.test("computeStatus reports Pending before the StatefulSet exists", () => {
  const status = statusOf(clusterFixture(), undefined);
  assert.equal(status.phase, "Pending");
  assert.equal(status.readyReplicas, 0);
  assert.deepEqual(status.conditions, [{
    type: "Ready",
    status: "False",
    reason: "StatefulSetNotFound",
    message: "the StatefulSet has not been created yet",
    lastTransitionTime: T0,
    observedGeneration: 4,
  }]);
});

Deno.test("computeStatus takes readyReplicas from the StatefulSet", () => {
  const status = statusOf(clusterFixture({ replicas: 3 }), rolledOut(3, 2));
  assert.equal(status.readyReplicas, 2);
  assert.equal(status.replicas, 3);
  assert.equal(status.phase, "Provisioning");
  assert.equal(status.conditions![0]!.message, "2/3 replicas ready");
});

Deno.test("computeStatus reports Ready when every replica is ready and rolled out", () => {
  const status = statusOf(clusterFixture({ replicas: 3 }), rolledOut(3, 3));
  assert.equal(status.phase, "Ready");
  assert.equal(status.conditions![0]!.status, "True");
  assert.equal(status.conditions![0]!.reason, "AllReplicasReady");
});

Deno.test("computeStatus reports RollingOut while the StatefulSet has not caught up", () => {
  const stale = sts({
    observedGeneration: 1,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
  }, 2);
  const status = statusOf(clusterFixture({ replicas: 3 }), stale);
  assert.equal(status.phase, "Provisioning");
  assert.equal(status.conditions![0]!.reason, "RollingOut");
  const updating = sts({ replicas: 3, updatedReplicas: 1, readyReplicas: 3 });
  assert.match(
    statusOf(clusterFixture({ replicas: 3 }), updating).conditions![0]!.message,
    /1\/3 up to date/,
  );
});

Deno.test("computeStatus reports Degraded when a Ready cluster loses a pod", () => {
  const cluster = withStatus({ replicas: 3 }, rolledOut(3, 3));
  const status = statusOf(cluster, rolledOut(3, 2), T1);
  assert.equal(status.phase, "Degraded");
  assert.equal(status.conditions![0]!.lastTransitionTime, T1);
});

Deno.test("computeStatus reports Provisioning, not Degraded, when a Ready cluster scales up", () => {
  const cluster = withStatus({ replicas: 3 }, rolledOut(3, 3));
  cluster.spec.replicas = 5;
  const status = statusOf(cluster, rolledOut(3, 3), T1);
  assert.equal(status.phase, "Provisioning");
});

Deno.test("computeStatus reports Stopped at zero replicas", () => {
  const status = statusOf(clusterFixture({ replicas: 0 }), rolledOut(0, 0));
  assert.equal(status.phase, "Stopped");
  assert.equal(status.conditions![0]!.reason, "ScaledToZero");
});

Deno.test("computeStatus reports Invalid with every problem, without failing", () => {
  const status = statusOf(
    clusterFixture({ storageSize: "10 gigs", version: "x" }),
    undefined,
  );
  assert.equal(status.phase, "Invalid");
  assert.equal(status.conditions![0]!.reason, "InvalidSpec");
  assert.match(
    status.conditions![0]!.message,
    /spec\.version "x".*; spec\.storageSize "10 gigs"/,
  );
});

Deno.test("computeStatus sets observedGeneration and the scale selector", () => {
  const status = statusOf(clusterFixture(), undefined);
  assert.equal(status.observedGeneration, 4);
  assert.equal(status.conditions![0]!.observedGeneration, 4);
  assert.equal(
    status.selector,
    "app.kubernetes.io/instance=db,app.kubernetes.io/name=mysql",
  );
});

Deno.test("computeStatus is stable: the same observation later changes nothing", () => {
  const cluster = withStatus({ replicas: 3 }, rolledOut(3, 3));
  const again = statusOf(cluster, rolledOut(3, 3), T1);
  assert.deepEqual(
    again,
    cluster.status,
    "lastUpdate and lastTransitionTime kept",
  );
  assert.equal(statusChanged(cluster.status, again), false);
});

Deno.test("computeStatus moves lastUpdate only when something else changed", () => {
  const cluster = withStatus({ replicas: 3 }, rolledOut(3, 1));
  const more = statusOf(cluster, rolledOut(3, 2), T1);
  assert.equal(more.lastUpdate, T1);
  assert.equal(
    more.conditions![0]!.lastTransitionTime,
    T0,
    "Ready stayed False: no transition",
  );
  assert.equal(statusChanged(cluster.status, more), true);
});

Deno.test("computeStatus keeps conditions of other types", () => {
  const cluster = withStatus({}, rolledOut(1, 1));
  const other = {
    type: "Backup",
    status: "True" as const,
    reason: "Done",
    message: "",
    lastTransitionTime: T0,
  };
  cluster.status!.conditions!.push(other);
  const next = statusOf(cluster, rolledOut(1, 1), T1);
  assert.deepEqual(next.conditions![1], other);
});

Deno.test("sameJson ignores key order and undefined members", () => {
  assert.ok(
    sameJson({ a: 1, b: [1, { c: 2 }] }, {
      b: [1, { c: 2 }],
      a: 1,
      d: undefined,
    }),
  );
  assert.ok(!sameJson({ a: [1, 2] }, { a: [2, 1] }));
  assert.ok(!sameJson({ a: 1 }, { a: "1" }));
});

function readyPod(name: string, ready: boolean): KubeObject {
  return {
    metadata: { name },
    status: {
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  };
}

Deno.test("computeStatus names pod 0 as the primary, and none when stopped", () => {
  assert.equal(
    statusOf(clusterFixture({ replicas: 3 }), rolledOut(3, 3)).primary,
    "db-0",
  );
  assert.equal(
    statusOf(clusterFixture({ replicas: 0 }), rolledOut(0, 0)).primary,
    undefined,
  );
});

Deno.test("computeStatus says when replicas exist but none serves reads", () => {
  const cluster = clusterFixture({ replicas: 3 });
  const none = computeStatus(cluster, checkSpec(cluster), rolledOut(3, 1), T0, [
    readyPod("db-0", true),
    readyPod("db-1", false),
    readyPod("db-2", false),
  ]);
  const condition = none.conditions?.find((c) =>
    c.type === "ReplicasAvailable"
  );
  assert.deepEqual(condition, {
    type: "ReplicasAvailable",
    status: "False",
    reason: "NoReadyReplica",
    message:
      "no replica is ready: db-mysql-read has nowhere to send reads (0/2)",
    lastTransitionTime: T0,
    observedGeneration: 4,
  });
  cluster.status = none;
  const some = computeStatus(cluster, checkSpec(cluster), rolledOut(3, 2), T1, [
    readyPod("db-0", true),
    readyPod("db-1", true),
    readyPod("db-2", false),
  ]);
  const after = some.conditions?.find((c) => c.type === "ReplicasAvailable");
  assert.equal(after?.status, "True");
  assert.equal(
    after?.message,
    "1/2 replicas ready for reads through db-mysql-read",
  );
  assert.equal(after?.lastTransitionTime, T1);
  // not listed this time: the stored condition stays
  cluster.status = some;
  const unlisted = computeStatus(
    cluster,
    checkSpec(cluster),
    rolledOut(3, 2),
    T1,
  );
  assert.deepEqual(
    unlisted.conditions?.find((c) => c.type === "ReplicasAvailable"),
    after,
  );
});

Deno.test("computeStatus has no ReplicasAvailable condition with a single pod", () => {
  const cluster = clusterFixture({ replicas: 3 });
  cluster.status = computeStatus(
    cluster,
    checkSpec(cluster),
    rolledOut(3, 3),
    T0,
    [
      readyPod("db-1", true),
    ],
  );
  const one = clusterFixture({ replicas: 1 });
  one.status = cluster.status;
  const status = computeStatus(one, checkSpec(one), rolledOut(1, 1), T1, [
    readyPod("db-0", true),
  ]);
  assert.deepEqual(status.conditions?.map((c) => c.type), ["Ready"]);
});
