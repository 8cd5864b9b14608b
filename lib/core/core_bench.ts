import { desiredChildren } from "./desired_children.ts";
import type { KubeObject } from "../kube/http.ts";
import { computeStatus, statusChanged } from "./status.ts";
import { clusterFixture } from "./test_fixtures.ts";
import { checkSpec } from "./validate.ts";

const cluster = clusterFixture({ replicas: 3 });
const statefulSet: KubeObject = {
  metadata: { name: "db", generation: 1 },
  status: {
    observedGeneration: 1,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
  },
};
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
    desiredChildren(cluster, checked.spec, { statefulSet }, {
      root: "r".repeat(32),
      replication: "l".repeat(32),
      probe: "p".repeat(32),
    });
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
