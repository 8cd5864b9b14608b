import assert from "node:assert/strict";
import { readyScript } from "./mysql_scripts.ts";
import { desiredChildren } from "./children.ts";
import {
  desiredClientService,
  desiredHeadlessService,
  desiredPodDisruptionBudget,
  desiredSecret,
  desiredStatefulSet,
  volumeExpansions,
  volumesMayNeedExpansion,
} from "./desired_children.ts";
import type { PersistentVolumeClaim, StatefulSet } from "./objects.ts";
import type { MySQLClusterSpec } from "./mysql_cluster.ts";
import { clusterFixture, effectiveSpec } from "./test_fixtures.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

function statefulSet(
  spec: Partial<MySQLClusterSpec> = {},
  observed?: StatefulSet,
): Any {
  const cluster = clusterFixture(spec);
  return desiredStatefulSet(cluster, effectiveSpec(cluster), observed);
}

function container(sts: Any): Any {
  return sts.spec.template.spec.containers[0];
}

function pvc(name: string, storage: string): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "shop" },
    spec: { resources: { requests: { storage } } },
  };
}

const PASSWORD = {
  root: "r".repeat(32),
  replication: "l".repeat(32),
  probe: "p".repeat(32),
};

Deno.test("desiredChildren is deterministic for the same input", () => {
  const cluster = clusterFixture({ replicas: 3 });
  const a = desiredChildren(cluster, effectiveSpec(cluster), new Map());
  const b = desiredChildren(
    structuredClone(cluster),
    effectiveSpec(cluster),
    new Map(),
  );
  assert.deepEqual(a, b);
});

Deno.test("desiredChildren gives every child the labels and a controller ownerReference", () => {
  const cluster = clusterFixture({ replicas: 3 });
  const children = desiredChildren(cluster, effectiveSpec(cluster), new Map())
    .flatMap((child) => child.object ? [child.object] : []);
  assert.deepEqual(children.map((o) => o.kind), [
    "ConfigMap",
    "Service",
    "Service",
    "Service",
    "StatefulSet",
    "PodDisruptionBudget",
  ]);
  for (const child of children) {
    const metadata = child.metadata as Any;
    assert.equal(metadata.namespace, "shop");
    assert.equal(metadata.labels["app.kubernetes.io/instance"], "db");
    assert.equal(
      metadata.labels["app.kubernetes.io/managed-by"],
      "mysql-operator-fn",
    );
    assert.deepEqual(metadata.ownerReferences, [{
      apiVersion: "database.example.com/v1",
      kind: "MySQLCluster",
      name: "db",
      uid: "5f0c2b1e-0000-4000-8000-000000000001",
      controller: true,
      blockOwnerDeletion: true,
    }]);
  }
});

Deno.test("desiredChildren wants no PodDisruptionBudget at one pod", () => {
  const cluster = clusterFixture({ replicas: 1 });
  const budget = desiredChildren(cluster, effectiveSpec(cluster), new Map())
    .find((child) => child.ref.kind === "PodDisruptionBudget");
  assert.equal(budget?.object, undefined);
  assert.equal(budget?.child.optional, true, "so an observed one is deleted");
});

Deno.test("desiredSecret holds the root password and the replication and probe accounts", () => {
  const cluster = clusterFixture();
  const secret = desiredSecret(
    cluster,
    effectiveSpec(cluster),
    PASSWORD,
  ) as Any;
  assert.equal(secret.metadata.name, "db-credentials");
  assert.deepEqual(secret.stringData, {
    "root-password": PASSWORD.root,
    "replication-user": "repl",
    "replication-password": PASSWORD.replication,
    "probe-user": "probe",
    "probe-password": PASSWORD.probe,
  });
});

Deno.test("desiredSecret outlives the cluster with deletionPolicy Retain and goes with it with Delete", () => {
  const retain = clusterFixture({ deletionPolicy: "Retain" });
  assert.equal(
    (desiredSecret(retain, effectiveSpec(retain), PASSWORD) as Any).metadata
      .ownerReferences,
    undefined,
  );
  const del = clusterFixture({ deletionPolicy: "Delete" });
  const owned = desiredSecret(del, effectiveSpec(del), PASSWORD) as Any;
  assert.equal(owned.metadata.ownerReferences[0].uid, del.metadata.uid);
});

Deno.test("desiredHeadlessService gives stable per-pod DNS", () => {
  const service = desiredHeadlessService(clusterFixture()) as Any;
  assert.equal(service.metadata.name, "db");
  assert.equal(service.spec.clusterIP, "None");
  assert.equal(service.spec.publishNotReadyAddresses, true);
  assert.deepEqual(service.spec.selector, {
    "app.kubernetes.io/name": "mysql",
    "app.kubernetes.io/instance": "db",
  });
});

Deno.test("desiredClientService serves MySQL on 3306", () => {
  const service = desiredClientService(clusterFixture()) as Any;
  assert.equal(service.metadata.name, "db-mysql");
  assert.deepEqual(service.spec.ports, [{
    name: "mysql",
    port: 3306,
    targetPort: "mysql",
    protocol: "TCP",
  }]);
});

Deno.test("desiredStatefulSet runs the mysql image of spec.version behind the headless Service", () => {
  const sts = statefulSet({ version: "9.1" });
  assert.equal(sts.metadata.name, "db");
  assert.equal(sts.spec.serviceName, "db");
  assert.equal(container(sts).image, "mysql:9.1");
  assert.deepEqual(container(sts).ports, [{
    name: "mysql",
    containerPort: 3306,
    protocol: "TCP",
  }]);
});

Deno.test("desiredStatefulSet follows spec.replicas", () => {
  assert.equal(statefulSet({ replicas: 3 }).spec.replicas, 3);
  assert.equal(statefulSet({ replicas: 0 }).spec.replicas, 0);
  assert.equal(statefulSet().spec.replicas, 1);
});

Deno.test("desiredStatefulSet sets one PVC per replica of storageSize", () => {
  const sts = statefulSet({ replicas: 3, storageSize: "25Gi" });
  assert.equal(sts.spec.volumeClaimTemplates.length, 1);
  const [template] = sts.spec.volumeClaimTemplates;
  assert.equal(template.metadata.name, "data");
  assert.deepEqual(template.spec.accessModes, ["ReadWriteOnce"]);
  assert.equal(template.spec.resources.requests.storage, "25Gi");
  assert.deepEqual(
    sts.spec.template.spec.volumes.map((v: Any) => v.name).includes("data"),
    false,
    "no shared data volume",
  );
  assert.deepEqual(container(sts).volumeMounts[0], {
    name: "data",
    mountPath: "/var/lib/mysql",
    subPath: "mysql",
  });
});

Deno.test("desiredStatefulSet uses storageClassName when set, the default class otherwise", () => {
  assert.equal(
    statefulSet({ storageClassName: "fast" }).spec.volumeClaimTemplates[0].spec
      .storageClassName,
    "fast",
  );
  assert.ok(
    !("storageClassName" in statefulSet().spec.volumeClaimTemplates[0].spec),
  );
});

Deno.test("desiredStatefulSet keeps the observed claim template (it is immutable)", () => {
  const observed = statefulSet({
    storageSize: "10Gi",
    storageClassName: "slow",
  });
  const grown = statefulSet(
    { storageSize: "50Gi", storageClassName: "fast" },
    observed,
  );
  assert.deepEqual(
    grown.spec.volumeClaimTemplates,
    observed.spec.volumeClaimTemplates,
  );
});

Deno.test("desiredStatefulSet sets requests equal to limits from spec.resources", () => {
  const sts = statefulSet({ resources: { cpu: 2, memory: "4Gi" } });
  assert.deepEqual(container(sts).resources, {
    requests: { cpu: "2", memory: "4Gi" },
    limits: { cpu: "2", memory: "4Gi" },
  });
  assert.deepEqual(container(statefulSet()).resources.limits, {
    cpu: "500m",
    memory: "1Gi",
  });
});

Deno.test("desiredStatefulSet keeps or deletes volumes, on deletion and scale-down, per deletionPolicy", () => {
  assert.deepEqual(
    statefulSet({ deletionPolicy: "Delete" }).spec
      .persistentVolumeClaimRetentionPolicy,
    {
      whenDeleted: "Delete",
      whenScaled: "Delete",
    },
  );
  assert.deepEqual(statefulSet().spec.persistentVolumeClaimRetentionPolicy, {
    whenDeleted: "Retain",
    whenScaled: "Retain",
  });
});

Deno.test("desiredStatefulSet reads the root password from the mounted Secret, not an env literal", () => {
  const sts = statefulSet();
  assert.deepEqual(container(sts).env, [
    {
      name: "MYSQL_ROOT_PASSWORD_FILE",
      value: "/etc/mysql-credentials/root-password",
    },
    // root is not reachable through the Services
    { name: "MYSQL_ROOT_HOST", value: "127.0.0.1" },
  ]);
  const credentials = sts.spec.template.spec.volumes.find((v: Any) =>
    v.name === "credentials"
  );
  assert.equal(credentials.secret.secretName, "db-credentials");
});

Deno.test("desiredStatefulSet probes over TCP with a long startup budget", () => {
  const c = container(statefulSet());
  assert.deepEqual(c.startupProbe.tcpSocket, { port: "mysql" });
  assert.ok(
    c.startupProbe.periodSeconds * c.startupProbe.failureThreshold >= 1200,
  );
  assert.deepEqual(c.livenessProbe.exec.command, [
    "mysqladmin",
    "ping",
    "-h",
    "127.0.0.1",
    "--protocol=tcp",
  ]);
  assert.deepEqual(c.readinessProbe.exec.command, [
    "bash",
    "/opt/mysql-operator/ready.sh",
  ]);
  const ready = readyScript(clusterFixture());
  assert.match(
    ready,
    /--defaults-extra-file="\/etc\/mysql-client\/probe\.cnf" --protocol=tcp -h 127\.0\.0\.1/,
  );
  assert.match(ready, /"SELECT 1"/);
  assert.doesNotMatch(ready, /-uroot|root\.cnf/, "the probe is not root");
});

Deno.test("desiredStatefulSet has a restricted security context the image accepts", () => {
  const sts = statefulSet();
  const pod = sts.spec.template.spec;
  assert.deepEqual(pod.securityContext, {
    runAsUser: 999,
    runAsGroup: 999,
    fsGroup: 999,
    fsGroupChangePolicy: "OnRootMismatch",
    runAsNonRoot: true,
    seccompProfile: { type: "RuntimeDefault" },
  });
  for (const c of [...pod.initContainers, ...pod.containers]) {
    assert.deepEqual(c.securityContext, {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    }, c.name);
    assert.deepEqual(c.resources.requests, c.resources.limits, c.name);
  }
  const emptyDirs = pod.volumes.filter((v: Any) => v.emptyDir).map((v: Any) =>
    v.name
  );
  assert.deepEqual(emptyDirs, [
    "run",
    "tmp",
    "sidecar-tmp",
    "mysql-files",
    "conf",
    "client",
  ]);
  const mysql = container(sts);
  for (const path of ["/var/run/mysqld", "/tmp", "/var/lib/mysql-files"]) {
    assert.ok(
      mysql.volumeMounts.some((m: Any) => m.mountPath === path && !m.readOnly),
      path,
    );
  }
  assert.deepEqual(
    mysql.volumeMounts.find((m: Any) => m.mountPath === "/var/lib/mysql"),
    { name: "data", mountPath: "/var/lib/mysql", subPath: "mysql" },
  );
  assert.ok(pod.terminationGracePeriodSeconds >= 120);
});

Deno.test("desiredPodDisruptionBudget allows one pod down, and exists only above one replica", () => {
  const three = clusterFixture({ replicas: 3 });
  const pdb = desiredPodDisruptionBudget(three, effectiveSpec(three)) as Any;
  assert.equal(pdb.spec.maxUnavailable, 1);
  assert.deepEqual(
    pdb.spec.selector.matchLabels["app.kubernetes.io/instance"],
    "db",
  );
  const one = clusterFixture({ replicas: 1 });
  assert.equal(desiredPodDisruptionBudget(one, effectiveSpec(one)), undefined);
});

Deno.test("volumeExpansions grows the cluster's smaller PVCs to storageSize", () => {
  const cluster = clusterFixture({ storageSize: "20Gi" });
  const expansions = volumeExpansions(cluster, effectiveSpec(cluster), [
    pvc("data-db-1", "10Gi"),
    pvc("data-db-0", "10Gi"),
    pvc("data-db-2", "20Gi"),
    pvc("data-db-other-0", "1Gi"),
    pvc("data-dbx-0", "1Gi"),
  ]);
  assert.deepEqual(
    expansions.map((e) => [e.claim.metadata?.name, e.storage]),
    [["data-db-0", "20Gi"], ["data-db-1", "20Gi"]],
  );
});

Deno.test("volumeExpansions never shrinks a PVC", () => {
  const cluster = clusterFixture({ storageSize: "5Gi" });
  assert.deepEqual(
    volumeExpansions(cluster, effectiveSpec(cluster), [
      pvc("data-db-0", "10Gi"),
    ]),
    [],
  );
});

Deno.test("volumesMayNeedExpansion only once storageSize outgrew the claim template", () => {
  const built = statefulSet({ storageSize: "10Gi" });
  const spec = (storageSize: string) =>
    effectiveSpec(clusterFixture({ storageSize }));
  assert.equal(volumesMayNeedExpansion(spec("10Gi"), built), false);
  assert.equal(volumesMayNeedExpansion(spec("20Gi"), built), true);
  assert.equal(
    volumesMayNeedExpansion(spec("20Gi"), undefined),
    false,
    "no StatefulSet, no PVCs",
  );
});
