import assert from "node:assert/strict";
import { credentialsRef } from "./children.ts";
import { childKey } from "./objects.ts";
import {
  credentialsUsed,
  followUpReads,
  keptAhead,
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
  const credentials = readsAhead("shop", "db", true).find((read) =>
    read.op === "credentials"
  );
  assert.deepEqual(
    credentials?.op === "credentials" ? credentials.ref : undefined,
    credentialsRef(clusterFixture()),
  );
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
  const invalid = clusterFixture({ replicas: "three" as unknown as number });
  assert.equal(credentialsUsed(invalid, new Map()), false, "an invalid spec");
  // what was read ahead on a hint is kept only when the pass uses it
  const found = {
    pods: [],
    credentials: { exists: false } as const,
  };
  assert.deepEqual(keptAhead(cluster, new Map(), found), found);
  assert.deepEqual(keptAhead(cluster, mine, found), { pods: [] });
  assert.deepEqual(
    keptAhead(clusterFixture({ replicas: 1 }), new Map(), found),
    { credentials: { exists: false } },
    "no pods at one replica",
  );
  assert.deepEqual(keptAhead(invalid, new Map(), found), {});
});
