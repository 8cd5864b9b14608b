import { desiredChildren } from "./children.ts";
import { childKey, type StatefulSet } from "./objects.ts";
import { computeStatus, statusChanged } from "./status.ts";
import { clusterFixture } from "./test_fixtures.ts";
import { checkSpec } from "./validate.ts";

const cluster = clusterFixture({ replicas: 3 });
const statefulSet: StatefulSet = {
  metadata: { name: "db", generation: 1 },
  status: {
    observedGeneration: 1,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
  },
};
const observed = new Map([[childKey("StatefulSet", "db"), statefulSet]]);
const check = checkSpec(cluster);
if (!check.ok) throw new Error("fixture is invalid");
cluster.status = computeStatus(
  cluster,
  check,
  statefulSet,
  "2026-11-25T10:00:00Z",
);

Deno.bench("core: check spec + desired children of a 3-replica cluster", () => {
  const checked = checkSpec(cluster);
  if (checked.ok) {
    desiredChildren(cluster, checked.spec, observed);
  }
});

Deno.bench("core: status of an unchanged cluster (no write)", () => {
  const next = computeStatus(
    cluster,
    check,
    statefulSet,
    "2026-11-25T11:00:00Z",
  );
  if (statusChanged(cluster.status, next)) throw new Error("status changed");
});
