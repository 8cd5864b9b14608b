import assert from "node:assert/strict";
import {
  desiredClientService,
  desiredHeadlessService,
  desiredReadService,
  desiredStatefulSet,
} from "./desired_children.ts";
import type { KubeObject } from "./objects.ts";
import {
  compareVersions,
  downgradeProblem,
  podOrdinal,
  readyReplicaPods,
  roleLabelPatches,
  roleOf,
  runningVersion,
} from "./mysql_topology.ts";
import { clusterFixture, effectiveSpec } from "./test_fixtures.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const cluster = clusterFixture({ replicas: 3 });

function pod(
  name: string,
  labels: Record<string, string> = {},
  ready = true,
): KubeObject {
  return {
    metadata: { name, labels },
    status: {
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  };
}

Deno.test("roleOf makes pod 0 the primary and every other pod a replica", () => {
  assert.equal(roleOf(0), "primary");
  assert.equal(roleOf(1), "replica");
  assert.equal(roleOf(8), "replica");
  assert.equal(podOrdinal(cluster, "db-0"), 0);
  assert.equal(podOrdinal(cluster, "db-12"), 12);
  assert.equal(podOrdinal(cluster, "db-01"), undefined);
  assert.equal(podOrdinal(cluster, "dbx-1"), undefined);
  assert.equal(podOrdinal(cluster, "db-x"), undefined);
});

Deno.test("the client Service selects the primary pod only, the read Service the replicas", () => {
  const base = {
    "app.kubernetes.io/name": "mysql",
    "app.kubernetes.io/instance": "db",
  };
  const client = desiredClientService(cluster) as Any;
  assert.equal(client.metadata.name, "db-mysql");
  assert.deepEqual(client.spec.selector, {
    ...client.spec.selector,
    "statefulset.kubernetes.io/pod-name": "db-0",
  });
  const read = desiredReadService(cluster) as Any;
  assert.equal(read.metadata.name, "db-mysql-read");
  assert.equal(read.spec.selector["database.example.com/role"], "replica");
  assert.equal(
    read.spec.selector["statefulset.kubernetes.io/pod-name"],
    undefined,
  );
  const headless = desiredHeadlessService(cluster) as Any;
  assert.equal(headless.spec.clusterIP, "None");
  assert.equal(headless.spec.selector["database.example.com/role"], undefined);
  for (const service of [client, read, headless]) {
    for (const [key, value] of Object.entries(base)) {
      assert.equal(
        service.spec.selector[key],
        value,
        `${service.metadata.name} ${key}`,
      );
    }
  }
});

Deno.test("roleLabelPatches labels each pod by its ordinal and leaves correct ones alone", () => {
  const patches = roleLabelPatches(cluster, [
    pod("db-2"),
    pod("db-0", { "database.example.com/role": "replica" }),
    pod("db-1", { "database.example.com/role": "replica" }),
    pod("other-1"),
    {
      metadata: { name: "db-3", deletionTimestamp: "2026-01-01T00:00:00Z" },
    },
  ]);
  assert.deepEqual(patches, [
    { name: "db-0", role: "primary" },
    { name: "db-2", role: "replica" },
  ]);
});

Deno.test("readyReplicaPods counts Ready replicas, not the primary", () => {
  assert.equal(
    readyReplicaPods(cluster, [
      pod("db-0"),
      pod("db-1"),
      pod("db-2", {}, false),
      pod("other-1"),
    ]),
    1,
  );
});

Deno.test("compareVersions orders releases; a floating tag equals its line", () => {
  assert.ok(compareVersions("8.4.2", "8.4.3") < 0);
  assert.ok(compareVersions("9.1", "8.4.3") > 0);
  assert.ok(compareVersions("8.0.40", "8.4") < 0);
  assert.equal(compareVersions("8.4", "8.4.3"), 0);
  assert.equal(compareVersions("8.4.3", "8.4"), 0);
  assert.ok(compareVersions("8.10", "8.9") > 0, "numeric, not lexical");
});

Deno.test("downgradeProblem refuses an older version than the StatefulSet runs", () => {
  const running = desiredStatefulSet(
    clusterFixture({ version: "8.4.3" }),
    effectiveSpec(clusterFixture({ version: "8.4.3" })),
  );
  assert.equal(runningVersion(running), "8.4.3");
  assert.match(
    downgradeProblem("8.4.2", running) ?? "",
    /8\.4\.2 is older than the running 8\.4\.3; MySQL cannot downgrade/,
  );
  assert.match(downgradeProblem("8.0", running) ?? "", /older/);
  assert.equal(downgradeProblem("8.4.4", running), undefined);
  assert.equal(downgradeProblem("9.1", running), undefined);
  assert.equal(downgradeProblem("8.4", running), undefined);
  assert.equal(
    downgradeProblem("8.0", undefined),
    undefined,
    "nothing runs yet",
  );
  assert.equal(
    runningVersion({
      spec: {
        selector: {},
        serviceName: "db",
        template: {
          spec: {
            containers: [{ name: "mysql", image: "registry/mysql:9.1.0" }],
          },
        },
      },
    }),
    "9.1.0",
  );
});

Deno.test("desiredStatefulSet updates replicas first and the primary last, one pod at a time", () => {
  // the StatefulSet controller's RollingUpdate replaces pods from the highest
  // ordinal down, one at a time; pod 0 is the primary, so it goes last
  const sts = desiredStatefulSet(cluster, effectiveSpec(cluster)) as Any;
  assert.deepEqual(sts.spec.updateStrategy, {
    type: "RollingUpdate",
    rollingUpdate: { partition: 0 },
  });
  assert.equal(sts.spec.updateStrategy.rollingUpdate.maxUnavailable, undefined);
  assert.equal(sts.spec.podManagementPolicy, "OrderedReady");
  assert.equal(roleOf(0), "primary");
});

Deno.test("desiredStatefulSet runs a config init container and a replication sidecar from the same image", () => {
  const sts = desiredStatefulSet(
    clusterFixture({ version: "8.4.3", replicas: 3 }),
    effectiveSpec(clusterFixture({ version: "8.4.3", replicas: 3 })),
  ) as Any;
  const pod = sts.spec.template.spec;
  assert.deepEqual(
    pod.initContainers.map((c: Any) => [c.name, c.image, c.command.join(" ")]),
    [["init-config", "mysql:8.4.3", "bash /opt/mysql-operator/init-config.sh"]],
  );
  assert.deepEqual(
    pod.containers.map((c: Any) => [c.name, c.image]),
    [["mysql", "mysql:8.4.3"], ["replication", "mysql:8.4.3"]],
  );
  assert.deepEqual(
    pod.containers[1].command,
    ["bash", "/opt/mysql-operator/replicate.sh"],
  );
  const initdb = pod.volumes.find((v: Any) => v.name === "initdb");
  assert.deepEqual(initdb.configMap.items, [{
    key: "initdb-users.sh",
    path: "10-users.sh",
  }]);
  assert.equal(initdb.configMap.name, "db-config");
  assert.deepEqual(
    pod.volumes.find((v: Any) => v.name === "client").emptyDir.medium,
    "Memory",
    "client option files with passwords stay in memory",
  );
  assert.match(
    sts.spec.template.metadata.annotations["database.example.com/config-hash"],
    /^[0-9a-f]{8}$/,
  );
});
