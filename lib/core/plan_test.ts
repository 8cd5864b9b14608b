import assert from "node:assert/strict";
import {
  describeWrite,
  NOW,
  PASSWORDS,
  type Scenario,
  scenarios,
  TRACE_ID,
} from "./plan_fixtures.ts";
import { plan, plannedRequests, type Write } from "./plan.ts";

function planOf(scenario: Scenario) {
  return plan({
    observed: scenario.observed,
    now: NOW,
    passwords: PASSWORDS,
    ...(scenario.untraced ? {} : { traceId: TRACE_ID }),
  });
}

function statusOf(writes: Write[]) {
  const write = writes.find((w) =>
    w.op === "apply" && w.subresource === "status"
  );
  return write?.op === "apply"
    ? write.object.status as {
      phase: string;
      conditions: { type: string; reason: string }[];
    }
    : undefined;
}

for (const scenario of scenarios()) {
  Deno.test(`plan ${scenario.name}`, () => {
    const planned = planOf(scenario);
    const { expect } = scenario;
    assert.equal(planned.outcome, expect.outcome);
    assert.deepEqual(
      planned.waves.map((wave) => wave.map(describeWrite)),
      expect.waves,
    );
    assert.equal(planned.phase, expect.phase);
    const writes = planned.waves.flat();
    const status = statusOf(writes) ?? scenario.observed.cluster.status;
    if (expect.reason) {
      assert.equal(
        status?.conditions?.find((c) => c.type === "Ready")?.reason,
        expect.reason,
      );
    }
    assert.deepEqual(
      writes.flatMap((w) =>
        w.op === "create" && w.object.kind === "Event"
          ? [`${w.object.type}/${w.object.reason}`]
          : []
      ),
      expect.events,
    );
    assert.equal(
      plannedRequests(scenario.observed, planned),
      expect.requests,
      "API requests of the pass",
    );
  });
}

Deno.test("plan is the same for the same observation", () => {
  for (const scenario of scenarios()) {
    assert.deepEqual(planOf(scenario), planOf(structuredClone(scenario)));
  }
});

Deno.test("plan says why each write is made", () => {
  const [create, , , , scaleDown] = scenarios();
  const whys = (s: Scenario) =>
    Object.fromEntries(
      planOf(s).waves.flat().map((w) => [describeWrite(w), w.why]),
    );
  assert.equal(whys(create!)["apply StatefulSet db"], "absent");
  assert.equal(
    whys(scaleDown!)["apply StatefulSet db"],
    "spec.replicas differs",
  );
  assert.equal(
    whys(scaleDown!)["delete PodDisruptionBudget db"],
    "not wanted at this size",
  );
});

Deno.test("plan creates the credentials Secret first and never applies, patches or deletes one", () => {
  for (const scenario of scenarios()) {
    const planned = planOf(scenario);
    const secretWrites = planned.waves.flat().filter((w) =>
      (w.op === "create" || w.op === "apply"
        ? w.object.kind
        : w.target.kind) === "Secret"
    );
    for (const write of secretWrites) assert.equal(write.op, "create");
    if (secretWrites.length > 0) {
      assert.deepEqual(planned.waves[0], secretWrites, scenario.name);
    }
  }
});

Deno.test("plan puts the passwords into the Secret and nowhere else", () => {
  const planned = planOf(scenarios()[0]!);
  for (const write of planned.waves.flat()) {
    const text = JSON.stringify(write);
    const isSecret = write.op === "create" && write.object.kind === "Secret";
    for (const password of Object.values(PASSWORDS)) {
      assert.equal(text.includes(password), isSecret, describeWrite(write));
    }
  }
});

Deno.test("plan ends each Event message with the trace id, and records it in the status it writes", () => {
  const planned = planOf(scenarios()[0]!);
  const writes = planned.waves.flat();
  const event = writes.find((w) =>
    w.op === "create" && w.object.kind === "Event"
  );
  assert.ok(event?.op === "create");
  assert.match(String(event.object.message), / \(trace [0-9a-f]{32}\)$/);
  assert.equal(
    (statusOf(writes) as { traceId?: string } | undefined)?.traceId,
    TRACE_ID,
  );
  // a pass that changes nothing keeps the trace id of the one that did
  const [, noop] = scenarios();
  const again = plan({
    observed: noop!.observed,
    now: NOW,
    passwords: PASSWORDS,
    traceId: "ffffffffffffffffffffffffffffffff",
  });
  assert.equal(again.statusChanged, false);
});

Deno.test("plan names what blocks a cluster and writes nothing to its children", () => {
  const conflicts = scenarios().filter((s) => s.expect.outcome === "blocked");
  assert.ok(conflicts.length >= 4);
  for (const scenario of conflicts) {
    const planned = planOf(scenario);
    const message = statusOf(planned.waves.flat())?.conditions.find((c) =>
      c.type === "Ready"
    ) as { message?: string } | undefined;
    assert.ok(planned.problems.length > 0, scenario.name);
    assert.match(message?.message ?? "", /nothing was changed/);
    for (const write of planned.waves.flat()) {
      const kind = write.op === "create" || write.op === "apply"
        ? write.object.kind
        : write.target.kind;
      assert.ok(["MySQLCluster", "Event"].includes(kind!), scenario.name);
    }
  }
  const [service] = conflicts;
  assert.match(
    planOf(service!).problems.join(),
    /Service shop\/db-mysql is controlled by Deployment web/,
  );
  const earlier = conflicts.find((s) => /earlier cluster/.test(s.name))!;
  assert.match(planOf(earlier).problems.join(), /garbage collector/);
});

Deno.test("plan adopts an orphan of the operator's and says so", () => {
  const orphan = scenarios().find((s) => /orphan/.test(s.name))!;
  const write = planOf(orphan).waves.flat().find((w) =>
    describeWrite(w) === "apply ConfigMap db-config"
  );
  assert.equal(write?.why, "an orphan of the operator's: adopted");
});

Deno.test("plan orders waves: credentials, children, status with the Created Event, other Events", () => {
  const planned = planOf(scenarios()[0]!);
  assert.deepEqual(
    planned.waves.map((wave) =>
      [...new Set(wave.map((w) => describeWrite(w).split(" ")[1]))].join(",")
    ),
    [
      "Secret",
      "ConfigMap,Service,StatefulSet,PodDisruptionBudget",
      "MySQLCluster,Event",
    ],
  );
  // a transition's Event only once its status is written
  const degraded = scenarios().find((s) =>
    s.name.startsWith("Ready → Degraded")
  )!;
  assert.deepEqual(
    planOf(degraded).waves.map((wave) => wave.map(describeWrite)),
    [["apply MySQLCluster db/status"], ["create Event db."]],
  );
});

Deno.test("plan of a create predicts the stored StatefulSet's status", () => {
  // status is computed against the StatefulSet as the apply will store it:
  // generation 1, nothing rolled out yet
  const planned = planOf(scenarios()[0]!);
  const status = statusOf(planned.waves.flat());
  assert.equal(status?.phase, "Provisioning");
  assert.match(
    JSON.stringify(status),
    /0\/3 replicas ready, 0\/3 up to date/,
  );
});
