import assert from "node:assert/strict";
import { childKey } from "./objects.ts";
import {
  credentialsUsed,
  followUpReads,
  podsUsed,
  readsAhead,
} from "./observation.ts";
import { clusterFixture } from "./test_fixtures.ts";

Deno.test("podsUsed only above one replica of a valid spec", () => {
  assert.equal(podsUsed(clusterFixture({ replicas: 3 })), true);
  assert.equal(podsUsed(clusterFixture({ replicas: 1 })), false);
  assert.equal(
    podsUsed(clusterFixture({ replicas: "three" as unknown as number })),
    false,
  );
});

Deno.test("readsAhead adds the credentials Secret's metadata for a fresh cluster only", () => {
  const ops = (fresh: boolean) =>
    readsAhead("shop", "db", fresh).map((read) =>
      read.op === "list"
        ? `list ${read.kind.kind}`
        : `${read.op} ${read.ref.kind}`
    );
  assert.deepEqual(ops(true), [...ops(false), "credentials Secret"]);
  assert.ok(!ops(false).includes("credentials Secret"));
});

Deno.test("credentialsUsed until this cluster's own StatefulSet exists; followUpReads skips it when read ahead", () => {
  const cluster = clusterFixture({ replicas: 3 });
  const statefulSet = (uid: string) =>
    new Map([[childKey("StatefulSet", "db"), {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: {
        name: "db",
        namespace: "shop",
        ownerReferences: [{
          apiVersion: "database.example.com/v1",
          kind: "MySQLCluster",
          name: "db",
          uid,
          controller: true,
        }],
      },
    }]]);
  const mine = statefulSet(cluster.metadata.uid!);
  assert.equal(credentialsUsed(cluster, new Map()), true);
  assert.equal(credentialsUsed(cluster, mine), false);
  assert.equal(
    credentialsUsed(cluster, statefulSet("an-earlier-cluster")),
    true,
    "an earlier cluster's StatefulSet is not this one's",
  );
  const credentialsReads = (read: boolean) =>
    followUpReads(cluster, new Map(), read).filter((r) =>
      r.op === "credentials"
    ).length;
  assert.equal(credentialsReads(false), 1);
  assert.equal(credentialsReads(true), 0);
  const deleting = {
    ...cluster,
    metadata: {
      ...cluster.metadata,
      deletionTimestamp: "2026-12-01T00:00:00Z",
    },
  };
  assert.equal(credentialsUsed(deleting, new Map()), false);
});
