import assert from "node:assert/strict";
import { clusterFixture } from "./test_fixtures.ts";
import { checkSpec } from "./validate.ts";

Deno.test("checkSpec applies the schema's defaults", () => {
  const check = checkSpec(clusterFixture());
  assert.ok(check.ok);
  assert.deepEqual(check.spec, {
    version: "8.4",
    storageSize: "10Gi",
    replicas: 1,
    resources: { cpu: "500m", memory: "1Gi" },
    deletionPolicy: "Retain",
  });
});

Deno.test("checkSpec keeps every field that is set", () => {
  const check = checkSpec(clusterFixture({
    replicas: 3,
    resources: { cpu: 2, memory: "4Gi" },
    storageClassName: "fast",
    deletionPolicy: "Delete",
  }));
  assert.ok(check.ok);
  assert.equal(check.spec.replicas, 3);
  assert.deepEqual(check.spec.resources, { cpu: 2, memory: "4Gi" });
  assert.equal(check.spec.storageClassName, "fast");
  assert.equal(check.spec.deletionPolicy, "Delete");
});

Deno.test("checkSpec lists every problem of a spec that bypassed the CRD", () => {
  const check = checkSpec(clusterFixture({
    version: "latest",
    replicas: -1,
    storageSize: "10 gigs",
    resources: { cpu: "0", memory: "lots" },
    // deno-lint-ignore no-explicit-any
    deletionPolicy: "Shred" as any,
  }));
  assert.ok(!check.ok);
  assert.deepEqual(check.problems, [
    'spec.version "latest" is not a MySQL version like "8.4"',
    "spec.replicas -1 is not between 0 and 9",
    'spec.storageSize "10 gigs" is not a positive quantity like "10Gi"',
    'spec.resources.cpu "0" is not a positive quantity like "10Gi"',
    'spec.resources.memory "lots" is not a positive quantity like "10Gi"',
    'spec.deletionPolicy "Shred" is neither Retain nor Delete',
  ]);
});

Deno.test("checkSpec refuses too many replicas", () => {
  const check = checkSpec(clusterFixture({ replicas: 10 }));
  assert.ok(!check.ok);
  assert.match(check.problems[0]!, /between 0 and 9/);
});
