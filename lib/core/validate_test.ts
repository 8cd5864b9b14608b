import assert from "node:assert/strict";
import type {
  MySQLCluster,
  MySQLClusterSpec,
  MySQLClusterStatus,
} from "./mysql_cluster.ts";
import { MYSQL_CLUSTER_SCHEMA, STATUS_FIELDS } from "./mysql_cluster_schema.ts";
import { schemaRules } from "./schema_rules.ts";
import { clusterFixture, effectiveSpec } from "./test_fixtures.ts";
import { checkSpec, checkTransition, validStatus } from "./validate.ts";

/** The fixture's spec with every default applied. */
const DEFAULT_SPEC = {
  version: "8.4",
  storageSize: "10Gi",
  replicas: 1,
  resources: { cpu: "500m", memory: "1Gi" },
  deletionPolicy: "Retain",
};

Deno.test("checkSpec applies the schema's defaults", () => {
  const check = checkSpec(clusterFixture());
  assert.ok(check.ok);
  assert.deepEqual(check.spec, DEFAULT_SPEC);
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

// --- every rule of the schema, broken once ---------------------------------

/** A valid spec with every field set. */
const FULL = {
  version: "8.4",
  replicas: 3,
  storageSize: "10Gi",
  resources: { cpu: "500m", memory: "1Gi" },
  storageClassName: "fast",
  deletionPolicy: "Retain",
} as const;

/** A spec breaking one rule; with `running`, a transition rule (checkTransition's). */
interface Case {
  spec: unknown;
  running?: { storageSize?: string; deletionPolicy?: string };
}

/** One case per rule id (`<path> <rule>`) of `schemaRules(MYSQL_CLUSTER_SCHEMA)`. */
const CASES: Record<string, Case> = {
  "spec type": { spec: "8.4" },
  "spec.version required": { spec: { ...FULL, version: undefined } },
  "spec.storageSize required": { spec: { ...FULL, storageSize: undefined } },
  "spec properties": { spec: { ...FULL, replica: 3 } },
  "spec.version type": { spec: { ...FULL, version: true } },
  "spec.version maxLength": {
    spec: { ...FULL, version: `8.${"4".repeat(31)}` },
  },
  "spec.version pattern": { spec: { ...FULL, version: "latest" } },
  "spec.replicas type": { spec: { ...FULL, replicas: 1.5 } },
  // any int32 overflow is also above the maximum: one problem all the same
  "spec.replicas format": { spec: { ...FULL, replicas: 2 ** 31 } },
  "spec.replicas minimum": { spec: { ...FULL, replicas: -1 } },
  "spec.replicas maximum": { spec: { ...FULL, replicas: 10 } },
  "spec.storageSize int-or-string": { spec: { ...FULL, storageSize: 10.5 } },
  "spec.storageSize pattern": { spec: { ...FULL, storageSize: "10 gigs" } },
  "spec.storageSize x-kubernetes-validations:0": {
    spec: { ...FULL, storageSize: "5Gi" },
    running: { storageSize: "10Gi" },
  },
  "spec.resources type": { spec: { ...FULL, resources: "big" } },
  "spec.resources.cpu required": {
    spec: { ...FULL, resources: { memory: "1Gi" } },
  },
  "spec.resources.memory required": {
    spec: { ...FULL, resources: { cpu: "1" } },
  },
  "spec.resources properties": {
    spec: { ...FULL, resources: { cpu: "1", memory: "1Gi", gpu: 1 } },
  },
  "spec.resources.cpu int-or-string": {
    spec: { ...FULL, resources: { cpu: 0.5, memory: "1Gi" } },
  },
  "spec.resources.cpu pattern": {
    spec: { ...FULL, resources: { cpu: "half", memory: "1Gi" } },
  },
  "spec.resources.memory int-or-string": {
    spec: { ...FULL, resources: { cpu: "1", memory: ["1Gi"] } },
  },
  "spec.resources.memory pattern": {
    spec: { ...FULL, resources: { cpu: "1", memory: "1 GB" } },
  },
  "spec.storageClassName type": { spec: { ...FULL, storageClassName: 7 } },
  "spec.storageClassName maxLength": {
    spec: { ...FULL, storageClassName: "a".repeat(254) },
  },
  "spec.storageClassName pattern": {
    spec: { ...FULL, storageClassName: "Bad_Name" },
  },
  "spec.deletionPolicy type": { spec: { ...FULL, deletionPolicy: true } },
  "spec.deletionPolicy enum": { spec: { ...FULL, deletionPolicy: "Shred" } },
  "spec.deletionPolicy x-kubernetes-validations:0": {
    spec: { ...FULL, deletionPolicy: "Delete" },
    running: { deletionPolicy: "Retain" },
  },
};

/** A cluster whose spec may be anything (it bypassed the CRD). */
function clusterWith(spec: unknown): MySQLCluster {
  return { ...clusterFixture(), spec: spec as MySQLClusterSpec };
}

/** True when the problem is about the field at `path` (or one below it). */
function names(problem: string, path: string): boolean {
  return problem.startsWith(`${path} `) || problem.startsWith(`${path}.`);
}

Deno.test("CASES has a case for every rule of the schema, and no other", () => {
  const ids = schemaRules(MYSQL_CLUSTER_SCHEMA).map((r) =>
    `${r.path} ${r.rule}`
  );
  assert.deepEqual(
    ids.filter((id) => !(id in CASES)),
    [],
    "rules without a case",
  );
  assert.deepEqual(
    Object.keys(CASES).filter((id) => !ids.includes(id)),
    [],
    "stale cases",
  );
});

Deno.test("checkSpec accepts the spec the cases start from", () => {
  const check = checkSpec(clusterWith(FULL));
  assert.ok(check.ok, JSON.stringify(check));
  assert.deepEqual(check.spec, FULL);
});

Deno.test("checkSpec refuses every case of CASES, naming only the field", () => {
  for (const [id, { spec, running }] of Object.entries(CASES)) {
    if (running) continue;
    const path = id.split(" ")[0]!;
    const check = checkSpec(clusterWith(spec));
    assert.ok(!check.ok, `${id}: accepted`);
    assert.ok(check.problems.length > 0, id);
    for (const problem of check.problems) {
      assert.ok(names(problem, path), `${id}: ${problem}`);
    }
  }
});

Deno.test("checkTransition refuses every transition case of CASES, which checkSpec leaves", () => {
  const transitions = schemaRules(MYSQL_CLUSTER_SCHEMA)
    .filter((r) =>
      String((r.value as { rule?: unknown })?.rule).includes("oldSelf")
    )
    .map((r) => `${r.path} ${r.rule}`);
  assert.ok(transitions.length >= 2);
  for (const id of transitions) {
    const { spec, running } = CASES[id]!;
    assert.ok(running, `${id}: a transition case needs what is running`);
    const check = checkSpec(clusterWith(spec));
    assert.ok(check.ok, `${id}: ${JSON.stringify(check)}`);
    const problems = checkTransition(check.spec, running);
    assert.equal(problems.length, 1, `${id}: ${problems}`);
    assert.ok(names(problems[0]!, id.split(" ")[0]!), `${id}: ${problems}`);
  }
});

// --- checkSpec's problems -------------------------------------------------

Deno.test("checkSpec explains a storageClassName that is not a DNS subdomain", () => {
  const check = checkSpec(clusterFixture({ storageClassName: "Bad_Name" }));
  assert.ok(!check.ok);
  assert.deepEqual(check.problems, [
    'spec.storageClassName "Bad_Name" is not a DNS subdomain (lowercase letters, digits, "-" and ".", starting and ending with a letter or digit)',
  ]);
});

Deno.test("checkSpec names unknown and missing fields", () => {
  const check = checkSpec(clusterWith({ replica: 3, resources: { cpu: 1 } }));
  assert.ok(!check.ok);
  assert.deepEqual(check.problems, [
    "spec.version is required",
    "spec.storageSize is required",
    "spec.replica is not a field of spec (its fields: version, replicas, storageSize, resources, storageClassName, deletionPolicy)",
    "spec.resources.memory is required",
  ]);
});

Deno.test("checkSpec names the wrong types, once per field", () => {
  const check = checkSpec(clusterWith({
    version: 8.4,
    replicas: "3",
    storageSize: true,
    resources: { cpu: 1.5, memory: "1Gi" },
    deletionPolicy: 1,
  }));
  assert.ok(!check.ok);
  assert.deepEqual(check.problems, [
    "spec.version 8.4 is not a string",
    'spec.replicas "3" is not an integer',
    "spec.storageSize true is neither an integer nor a string",
    "spec.resources.cpu 1.5 is neither an integer nor a string",
    "spec.deletionPolicy 1 is not a string",
  ]);
});

Deno.test("checkSpec refuses a spec that is not an object", () => {
  for (const spec of ["8.4", [], 3]) {
    const check = checkSpec(clusterWith(spec));
    assert.ok(!check.ok);
    assert.equal(check.problems.length, 1);
    assert.match(check.problems[0]!, /^spec .* is not an object$/);
  }
});

Deno.test("checkSpec refuses quantities that are not positive, integers too", () => {
  const check = checkSpec(clusterFixture({
    storageSize: 0,
    resources: { cpu: -1, memory: "0Gi" },
  }));
  assert.ok(!check.ok);
  assert.deepEqual(check.problems, [
    'spec.storageSize 0 is not a positive quantity like "10Gi"',
    'spec.resources.cpu -1 is not a positive quantity like "10Gi"',
    'spec.resources.memory "0Gi" is not a positive quantity like "10Gi"',
  ]);
});

Deno.test("checkSpec counts lengths and cuts long values short", () => {
  const check = checkSpec(clusterFixture({
    version: `8.${"4".repeat(31)}`,
    storageClassName: "a".repeat(254),
  }));
  assert.ok(!check.ok);
  assert.equal(check.problems.length, 2);
  assert.match(
    check.problems[0]!,
    /^spec\.version "8\.4+" is longer than 32 characters$/,
  );
  assert.match(
    check.problems[1]!,
    /^spec\.storageClassName "a+… is longer than 253 characters$/,
  );
  assert.ok(check.problems[1]!.length < 140);
});

Deno.test("checkSpec treats null fields as absent: defaults apply", () => {
  const check = checkSpec(clusterWith({
    version: "8.4",
    storageSize: "10Gi",
    replicas: null,
    resources: null,
    storageClassName: null,
    deletionPolicy: null,
  }));
  assert.ok(check.ok, JSON.stringify(check));
  assert.deepEqual(check.spec, DEFAULT_SPEC);
});

// --- checkTransition --------------------------------------------------------

Deno.test("checkTransition refuses a shrinking storageSize", () => {
  const spec = effectiveSpec(clusterFixture({ storageSize: "5Gi" }));
  assert.deepEqual(checkTransition(spec, { storageSize: "10Gi" }), [
    "spec.storageSize 5Gi is smaller than the 10Gi the volumes were created with: volumes can only grow",
  ]);
});

Deno.test("checkTransition lets storageSize grow or stay, whatever its notation", () => {
  const spec = effectiveSpec(clusterFixture({ storageSize: "10Gi" }));
  assert.deepEqual(checkTransition(spec, { storageSize: "5Gi" }), []);
  assert.deepEqual(checkTransition(spec, { storageSize: "10737418240" }), []);
  assert.deepEqual(checkTransition(spec, { storageSize: "10Gi" }), []);
});

Deno.test("checkTransition refuses a changed deletionPolicy", () => {
  const spec = effectiveSpec(clusterFixture({ deletionPolicy: "Delete" }));
  assert.deepEqual(checkTransition(spec, { deletionPolicy: "Retain" }), [
    "spec.deletionPolicy Delete differs from Retain, fixed at creation",
  ]);
  assert.deepEqual(checkTransition(spec, { deletionPolicy: "Delete" }), []);
});

Deno.test("checkTransition lists every problem and checks nothing it was not told", () => {
  const spec = effectiveSpec(clusterFixture({ storageSize: "1Gi" }));
  assert.deepEqual(checkTransition(spec, {}), []);
  assert.deepEqual(checkTransition(spec, { storageSize: "lots" }), []);
  assert.equal(
    checkTransition(spec, { storageSize: "2Gi", deletionPolicy: "Delete" })
      .length,
    2,
  );
});

// --- validStatus ------------------------------------------------------------

const STATUS: MySQLClusterStatus = {
  replicas: 3,
  readyReplicas: 2,
  primary: "db-mysql-0",
  phase: "Degraded",
  lastUpdate: "2025-01-02T03:04:05Z",
  observedGeneration: 4,
  selector: "app.kubernetes.io/instance=db",
  traceId: "0123456789abcdef0123456789abcdef",
  conditions: [
    {
      type: "Ready",
      status: "False",
      reason: "PodsNotReady",
      message: "2 of 3 pods are ready",
      lastTransitionTime: "2025-01-02T03:04:05.123+02:00",
      observedGeneration: 4,
    },
    {
      type: "ReplicasAvailable",
      status: "True",
      reason: "Replicating",
      message: "",
      lastTransitionTime: "2025-01-02T03:04:05Z",
    },
  ],
};

Deno.test("validStatus keeps a status that fits the schema, every field of it", () => {
  assert.deepEqual(Object.keys(STATUS).sort(), [...STATUS_FIELDS].sort());
  assert.deepEqual(validStatus(structuredClone(STATUS)), STATUS);
});

Deno.test("validStatus drops the fields of the wrong shape", () => {
  assert.deepEqual(
    validStatus({
      replicas: "3",
      readyReplicas: 1.5,
      primary: 0,
      phase: "Exploded",
      lastUpdate: "yesterday",
      observedGeneration: null,
      selector: {},
      traceId: "not-a-trace",
      extra: true,
      conditions: "Ready",
    }),
    {},
  );
  assert.deepEqual(validStatus({ replicas: 2 ** 31, phase: "Ready" }), {
    phase: "Ready",
  });
});

Deno.test("validStatus keeps only well-formed conditions, once per type", () => {
  const ready = STATUS.conditions![0]!;
  const status = validStatus({
    conditions: [
      { ...ready, extra: "pruned" },
      { ...ready, message: "a second Ready" },
      null,
      "Ready",
      [],
      { ...ready, type: "A", status: "Maybe" },
      { ...ready, type: "B", reason: "" },
      { ...ready, type: "C", lastTransitionTime: "now" },
      { ...ready, type: "D", observedGeneration: -1 },
      { ...ready, type: "E", message: undefined },
      { ...ready, type: 5 },
    ],
  });
  assert.deepEqual(status, { conditions: [ready] });
});

Deno.test("validStatus never throws, whatever it is given", () => {
  for (
    const status of [undefined, null, 3, "Ready", [], [1], { conditions: [{}] }]
  ) {
    const result = validStatus(status);
    assert.equal(typeof result, "object");
  }
  assert.deepEqual(validStatus(undefined), {});
  assert.deepEqual(validStatus({ conditions: [] }), { conditions: [] });
});
