import assert from "node:assert/strict";
import { credentialsRef } from "./children.ts";
import { childKey } from "./objects.ts";
import {
  clusterNotOlderThan,
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

Deno.test("readsAhead reads the child its event carried at least as new as the event, and only that one", () => {
  const bounded = (seen?: { key: string; resourceVersion: string }) =>
    readsAhead("shop", "db", false, seen).flatMap((read) =>
      read.op === "get" && read.notOlderThan !== undefined
        ? [`${read.ref.kind}/${read.ref.name}@${read.notOlderThan}`]
        : []
    );
  assert.deepEqual(
    bounded({ key: "StatefulSet/db", resourceVersion: "42" }),
    ["StatefulSet/db@42"],
  );
  assert.deepEqual(
    bounded({ key: "Service/db-mysql-read", resourceVersion: "7" }),
    ["Service/db-mysql-read@7"],
  );
  // the cluster's own event, another cluster's child, none: the watch cache
  assert.deepEqual(
    bounded({ key: "MySQLCluster/db", resourceVersion: "42" }),
    [],
  );
  assert.deepEqual(
    bounded({ key: "StatefulSet/other", resourceVersion: "42" }),
    [],
  );
  assert.deepEqual(bounded(), []);
});

Deno.test("clusterNotOlderThan bounds the cluster's read by its own event's version only", () => {
  assert.equal(
    clusterNotOlderThan("db", { key: "MySQLCluster/db", resourceVersion: "9" }),
    "9",
  );
  // a child's version would make the cluster's cache wait: a quorum read
  assert.equal(
    clusterNotOlderThan("db", { key: "StatefulSet/db", resourceVersion: "9" }),
    undefined,
  );
  assert.equal(
    clusterNotOlderThan("db", {
      key: "MySQLCluster/other",
      resourceVersion: "9",
    }),
    undefined,
  );
  assert.equal(clusterNotOlderThan("db"), undefined);
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
