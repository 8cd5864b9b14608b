import assert from "node:assert/strict";
import { childLabels, controllerReference, selectorString } from "./labels.ts";
import { clusterFixture } from "./test_fixtures.ts";

Deno.test("childLabels carries the recommended app.kubernetes.io labels", () => {
  assert.deepEqual(childLabels(clusterFixture(), "database"), {
    "app.kubernetes.io/name": "mysql",
    "app.kubernetes.io/instance": "db",
    "app.kubernetes.io/component": "database",
    "app.kubernetes.io/version": "8.4",
    "app.kubernetes.io/part-of": "db",
    "app.kubernetes.io/managed-by": "mysql-operator-fn",
  });
});

Deno.test("selectorString is the stable pod selector", () => {
  assert.equal(
    selectorString(clusterFixture({ version: "9.1" })),
    "app.kubernetes.io/instance=db,app.kubernetes.io/name=mysql",
  );
});

Deno.test("controllerReference points at the cluster as controller, blocking owner deletion", () => {
  assert.deepEqual(controllerReference(clusterFixture()), {
    apiVersion: "database.example.com/v1",
    kind: "MySQLCluster",
    name: "db",
    uid: "5f0c2b1e-0000-4000-8000-000000000001",
    controller: true,
    blockOwnerDeletion: true,
  });
});

Deno.test("controllerReference refuses a cluster without uid", () => {
  const cluster = clusterFixture();
  delete cluster.metadata.uid;
  assert.throws(
    () => controllerReference(cluster),
    /MySQLCluster shop\/db has no uid/,
  );
});
