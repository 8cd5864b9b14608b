import assert from "node:assert/strict";
import { CloudEvent, HTTP } from "cloudevents";
import { createHandler } from "../../functions/handler.ts";
import { mysqlClusterCrd } from "../../lib/manifests/crd.ts";
import { loadKubeAccess } from "../../lib/kube/config.ts";
import { permissionTable } from "../../lib/kube/api.ts";
import { KubeHttp } from "../../lib/kube/http.ts";
import { plan } from "../../lib/core/plan.ts";
import { ClusterGoneError, execute } from "../../lib/reconcile/execute.ts";
import { PermissionSet } from "../../lib/kube/permissions.ts";
import type { KubeObject } from "../../lib/core/objects.ts";
import { applyObjects } from "../harness/apply.ts";
import { auditedReads } from "../harness/cluster_state.ts";
import { startControlPlane } from "../harness/control_plane.ts";
import { installCrds } from "../harness/crds.ts";
import { eventually } from "../harness/wait.ts";

const NS = "shop";
const CLUSTERS = `/apis/database.example.com/v1/namespaces/${NS}/mysqlclusters`;
const STS = `/apis/apps/v1/namespaces/${NS}/statefulsets`;
const PDB = `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`;
const CORE = `/api/v1/namespaces/${NS}`;

type Mode = "binary" | "structured";
// deno-lint-ignore no-explicit-any
type Any = any;

function cluster(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "database.example.com/v1",
    kind: "MySQLCluster",
    metadata: { name, namespace: NS },
    spec,
  };
}

// volume expansion needs a StorageClass that allows it (PersistentVolumeClaimResize admission)
const STORAGE_CLASS = {
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  metadata: { name: "expandable" },
  provisioner: "example.com/none",
  allowVolumeExpansion: true,
};
const SPEC = {
  version: "8.4",
  storageSize: "10Gi",
  replicas: 3,
  storageClassName: "expandable",
};

Deno.test("reconcile function against a real apiserver", async (t) => {
  await using cp = await startControlPlane();
  await installCrds(cp.kube, [mysqlClusterCrd()]);
  await applyObjects(cp.kube, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
    STORAGE_CLASS,
  ]);
  // the permission guard on, as in production: an undeclared call fails
  using kube = new KubeHttp({
    ...await loadKubeAccess(cp.kubeconfigPath),
    permissions: new PermissionSet(permissionTable()),
  });
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createHandler({ kube }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/`;

  const post = async (type: string, data: unknown, mode: Mode = "binary") => {
    const event = new CloudEvent({
      type,
      source: cp.server,
      data,
      datacontenttype: "application/json",
    });
    const message = mode === "binary"
      ? HTTP.binary(event)
      : HTTP.structured(event);
    const response = await fetch(url, {
      method: "POST",
      headers: message.headers as Record<string, string>,
      body: message.body as string,
    });
    return { status: response.status, body: await response.json() as Any };
  };
  const touch = (name: string, mode: Mode = "binary") =>
    post("dev.knative.apiserver.resource.update", {
      apiVersion: "database.example.com/v1",
      kind: "MySQLCluster",
      metadata: { name, namespace: NS },
    }, mode);
  const get = (path: string) => cp.kube.request<Any>("GET", path);
  const versions = async (name: string) => {
    const paths = [
      `${CLUSTERS}/${name}`,
      `${CORE}/secrets/${name}-credentials`,
      `${CORE}/services/${name}`,
      `${CORE}/services/${name}-mysql`,
      `${STS}/${name}`,
    ];
    return await Promise.all(
      paths.map(async (p) => (await get(p)).metadata.resourceVersion),
    );
  };
  const events = async (name: string) =>
    (await get(`${CORE}/events?fieldSelector=involvedObject.name=${name}`))
      .items
      .map((e: Any) => `${e.type}/${e.reason}`);

  await t.step(
    "creation makes every child with ownerReferences and a status",
    async () => {
      await applyObjects(cp.kube, [
        cluster("db", SPEC),
      ]);
      const before = kube.requestCount;
      const { status, body } = await touch("db");
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.outcome, "reconciled");
      // as the planner's create scenario (lib/core/plan_fixtures.ts)
      assert.equal(kube.requestCount - before, 18, "API requests of a create");
      const parent = await get(`${CLUSTERS}/db`);
      for (
        const path of [
          `${CORE}/services/db`,
          `${CORE}/services/db-mysql`,
          `${STS}/db`,
          `${PDB}/db`,
        ]
      ) {
        const child = await get(path);
        assert.equal(
          child.metadata.ownerReferences[0].uid,
          parent.metadata.uid,
          path,
        );
        assert.equal(child.metadata.ownerReferences[0].controller, true);
      }
      const secret = await get(`${CORE}/secrets/db-credentials`);
      assert.match(atob(secret.data["root-password"]), /^[A-Za-z0-9]{32}$/);
      assert.equal(
        secret.metadata.ownerReferences,
        undefined,
        "Retain: the Secret outlives the cluster",
      );
      assert.equal(parent.status.phase, "Provisioning");
      assert.equal(
        parent.status.observedGeneration,
        parent.metadata.generation,
      );
      assert.deepEqual(await events("db"), ["Normal/Created"]);
      assert.ok(
        !JSON.stringify(body).includes(atob(secret.data["root-password"])),
      );
    },
  );

  await t.step("a second identical event writes nothing", async () => {
    const before = await versions("db");
    const requests = kube.requestCount;
    const { status, body } = await touch("db");
    assert.equal(status, 200);
    assert.equal(body.outcome, "unchanged");
    assert.deepEqual(body.writes, []);
    assert.equal(kube.requestCount - requests, 8, "API requests of a no-op");
    assert.deepEqual(await versions("db"), before);
  });

  await t.step(
    "an echo of the pass's own writes is answered with no API request",
    async () => {
      // what the adapters send after a pass: the cluster as its status write
      // left it, the StatefulSet as its apply left it
      const parent = await get(`${CLUSTERS}/db`);
      const sts = await get(`${STS}/db`);
      const requests = kube.requestCount;
      for (const object of [parent, sts]) {
        const { status, body } = await post(
          "dev.knative.apiserver.resource.update",
          object,
        );
        assert.equal(status, 200, JSON.stringify(body));
        assert.equal(body.outcome, "echo");
      }
      assert.equal(kube.requestCount, requests, "not one request");
      // a delete is never an echo: the StatefulSet must be made again
      const deleted = await post("dev.knative.apiserver.resource.delete", sts);
      assert.notEqual(deleted.body.outcome, "echo");
      assert.ok(kube.requestCount > requests);
    },
  );

  await t.step(
    "replaying the same event ten times in both content modes changes nothing",
    async () => {
      const before = await versions("db");
      for (let i = 0; i < 10; i++) {
        for (const mode of ["binary", "structured"] as const) {
          const { status, body } = await touch("db", mode);
          assert.equal(status, 200);
          assert.equal(body.outcome, "unchanged", JSON.stringify(body));
        }
      }
      assert.deepEqual(await versions("db"), before);
    },
  );

  await t.step(
    "scale 3 → 1 → 5 follows in the StatefulSet and the PodDisruptionBudget",
    async () => {
      for (const [replicas, pdb] of [[1, false], [5, true]] as const) {
        await applyObjects(cp.kube, [
          cluster("db", { ...SPEC, replicas }),
        ]);
        assert.equal((await touch("db")).status, 200);
        assert.equal((await get(`${STS}/db`)).spec.replicas, replicas);
        const found = await cp.kube.request("GET", `${PDB}/db`).then(
          () => true,
          () => false,
        );
        assert.equal(found, pdb, `PDB at ${replicas} replicas`);
        assert.equal((await get(`${CLUSTERS}/db`)).status.replicas, replicas);
      }
    },
  );

  await t.step("a version change updates the StatefulSet image", async () => {
    await applyObjects(cp.kube, [
      cluster("db", { ...SPEC, version: "9.1", replicas: 5 }),
    ]);
    await touch("db");
    assert.equal(
      (await get(`${STS}/db`)).spec.template.spec.containers[0].image,
      "mysql:9.1",
    );
  });

  await t.step(
    "storage growth patches the PVCs; a shrink is refused",
    async () => {
      // no StatefulSet controller or provisioner runs: create the PVCs the
      // StatefulSet would have made and mark them Bound (only bound claims grow)
      const claim = (await get(`${STS}/db`)).spec.volumeClaimTemplates[0];
      for (const i of [0, 1]) {
        const created = await cp.kube.request<Any>(
          "POST",
          `${CORE}/persistentvolumeclaims`,
          {
            body: {
              apiVersion: "v1",
              kind: "PersistentVolumeClaim",
              metadata: {
                name: `data-db-${i}`,
                namespace: NS,
                labels: claim.metadata.labels,
              },
              spec: claim.spec,
            },
          },
        );
        await cp.kube.request(
          "PUT",
          `${CORE}/persistentvolumeclaims/data-db-${i}/status`,
          {
            body: {
              ...created,
              status: { phase: "Bound", capacity: { storage: "10Gi" } },
            },
          },
        );
      }
      await applyObjects(cp.kube, [
        cluster("db", {
          ...SPEC,
          version: "9.1",
          storageSize: "20Gi",
          replicas: 5,
        }),
      ]);
      const { body } = await touch("db");
      assert.ok(
        body.writes.includes("expand PersistentVolumeClaim data-db-0 to 20Gi"),
        JSON.stringify(body),
      );
      for (const i of [0, 1]) {
        const pvc = await get(`${CORE}/persistentvolumeclaims/data-db-${i}`);
        assert.equal(pvc.spec.resources.requests.storage, "20Gi");
      }
      const shrink = await applyObjects(cp.kube, [
        cluster("db", {
          ...SPEC,
          version: "9.1",
          storageSize: "5Gi",
          replicas: 5,
        }),
      ])
        .then(() => "accepted", (e: Error) => e.message);
      assert.match(shrink, /storageSize cannot shrink/);
    },
  );

  await t.step(
    "a StatefulSet status change makes the cluster Ready",
    async () => {
      const sts = await get(`${STS}/db`);
      await cp.kube.request("PUT", `${STS}/db/status`, {
        body: {
          ...sts,
          status: {
            observedGeneration: sts.metadata.generation,
            replicas: 5,
            readyReplicas: 5,
            updatedReplicas: 5,
            currentReplicas: 5,
            availableReplicas: 5,
          },
        },
      });
      const updated = await get(`${STS}/db`);
      // sent right after the write: the pass reads the StatefulSet at least
      // as new as the version this event carries, however far behind the
      // apiserver's watch cache may be (read at resourceVersion=0, it could
      // miss the new status and leave the cluster Provisioning)
      const requests = kube.requestCount;
      const { status, body } = await post(
        "dev.knative.apiserver.resource.update",
        updated,
      );
      assert.equal(status, 200);
      assert.equal(
        kube.requestCount - requests,
        // cluster, 6 children, pods, PVCs (storage outgrew the template in
        // the step before); status, Event
        11,
        "API requests of a status change",
      );
      assert.equal(body.via, `StatefulSet ${NS}/db`);
      const parent = await get(`${CLUSTERS}/db`);
      assert.equal(parent.status.phase, "Ready");
      assert.equal(parent.status.readyReplicas, 5);
      assert.equal(parent.status.conditions[0].status, "True");
      assert.ok((await events("db")).includes("Normal/Ready"));
    },
  );

  await t.step(
    "a Reference-mode event for a child finds its owner",
    async () => {
      const { status, body } = await post("dev.knative.apiserver.ref.update", {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        namespace: NS,
        name: "db",
      });
      assert.equal(status, 200);
      assert.equal(body.key, `${NS}/db`);
      assert.equal(body.outcome, "unchanged");
    },
  );

  await t.step("a resync ping reconciles every cluster", async () => {
    await applyObjects(cp.kube, [
      cluster("db2", { version: "8.4", storageSize: "1Gi" }),
    ]);
    const { status, body } = await post("dev.knative.sources.ping", {
      reason: "resync",
    });
    assert.equal(status, 200);
    assert.equal(body.total, 2);
    assert.equal(body.done, 2);
    assert.deepEqual(body.changed, [`${NS}/db2`]);
    assert.equal((await get(`${STS}/db2`)).spec.replicas, 1);
  });

  await t.step(
    "an unreachable API answers 503, then the reconcile converges",
    async () => {
      await applyObjects(cp.kube, [
        cluster("db3", { version: "8.4", storageSize: "1Gi" }),
      ]);
      await cp.stopApiserver();
      try {
        const { status, body } = await touch("db3");
        assert.equal(status, 503, JSON.stringify(body));
        assert.equal(body.retry, true);
      } finally {
        await cp.startApiserver();
      }
      const { status, body } = await touch("db3");
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.outcome, "reconciled");
      assert.equal((await get(`${STS}/db3`)).spec.replicas, 1);
    },
  );

  await t.step(
    "a deleted parent is answered 200 with nothing to do",
    async () => {
      const { status, body } = await touch("gone");
      assert.equal(status, 200);
      assert.equal(body.outcome, "absent");
    },
  );

  await t.step(
    "malformed or unexpected events are answered 400 with a message",
    async () => {
      const raw = (headers: Record<string, string>, body: string) =>
        fetch(url, { method: "POST", headers, body }).then(async (r) => ({
          status: r.status,
          body: await r.json(),
        }));
      const ce = {
        "ce-specversion": "1.0",
        "ce-source": "test",
        "ce-id": "x",
        "content-type": "application/json",
      };
      const cases: [Record<string, string>, string, RegExp][] = [
        [
          { "content-type": "application/json" },
          "{}",
          /not a valid CloudEvent/,
        ],
        [
          { ...ce, "ce-type": "dev.knative.apiserver.resource.add" },
          "{not json",
          /not a valid CloudEvent|not valid JSON/,
        ],
        [
          { ...ce, "ce-type": "com.example.other" },
          "{}",
          /unexpected event type "com.example.other"/,
        ],
        [
          { ...ce, "ce-type": "dev.knative.apiserver.resource.add" },
          '{"apiVersion":"v1","kind":"X","metadata":{}}',
          /data.metadata.namespace is missing/,
        ],
        [
          { ...ce, "ce-type": "dev.knative.apiserver.ref.add" },
          '"text"',
          /must be a JSON object/,
        ],
      ];
      for (const [headers, body, message] of cases) {
        const answer = await raw(headers, body);
        assert.equal(answer.status, 400, JSON.stringify(answer));
        assert.match(answer.body.error, message);
      }
      const large = await raw(
        { ...ce, "ce-type": "dev.knative.sources.ping" },
        "x".repeat(1024 * 1024 + 1),
      );
      assert.equal(large.status, 413);
    },
  );

  await t.step(
    "an invalid spec (past an older CRD) is 200 with Ready=False/InvalidSpec and an Event",
    async () => {
      const lax = structuredClone(mysqlClusterCrd()) as Any;
      lax.spec.versions[0].schema.openAPIV3Schema.properties.spec = {
        type: "object",
        "x-kubernetes-preserve-unknown-fields": true,
      };
      await applyObjects(cp.kube, [lax]);
      // the apiserver takes a moment to serve the new schema
      await eventually("the lax schema is served", () =>
        applyObjects(cp.kube, [
          cluster("bad", { version: "latest", storageSize: "10 gigs" }),
        ]));
      const { status, body } = await touch("bad");
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.outcome, "invalid");
      const parent = await get(`${CLUSTERS}/bad`);
      assert.equal(parent.status.phase, "Invalid");
      assert.equal(parent.status.conditions[0].reason, "InvalidSpec");
      assert.match(
        parent.status.conditions[0].message,
        /spec.storageSize "10 gigs"/,
      );
      assert.deepEqual(await events("bad"), ["Warning/InvalidSpec"]);
      const none = await cp.kube.request("GET", `${STS}/bad`).then(
        () => "exists",
        () => "absent",
      );
      assert.equal(none, "absent", "nothing is created for an invalid spec");
      await applyObjects(cp.kube, [mysqlClusterCrd()]);
    },
  );

  await t.step(
    "a cluster deleted during its pass ends the pass as absent, not as a failure",
    async () => {
      // plan a pass for a cluster the API no longer has (read, then deleted)
      await applyObjects(cp.kube, [
        cluster("brief", { version: "8.4", storageSize: "1Gi" }),
      ]);
      const read = await get(`${CLUSTERS}/brief`);
      await cp.kube.request("DELETE", `${CLUSTERS}/brief`);
      const planned = plan({
        observed: { cluster: read, children: new Map() },
        now: "2026-12-01T10:00:00Z",
        passwords: { root: "r", replication: "l", probe: "p" },
      });
      await assert.rejects(execute(kube, planned, undefined), ClusterGoneError);
    },
  );

  await t.step(
    "non-canonical quantities go idle: the second event writes nothing",
    async () => {
      await applyObjects(cp.kube, [
        cluster("canon", {
          version: "8.4",
          storageSize: "1024Mi",
          replicas: 1,
          resources: { cpu: "0.5", memory: "1024Mi" },
        }),
      ]);
      const first = await touch("canon");
      assert.equal(first.body.outcome, "reconciled");
      const container = (await get(`${STS}/canon`)).spec.template.spec
        .containers[0];
      assert.deepEqual(container.resources.limits, {
        cpu: "500m",
        memory: "1Gi",
      });
      const versions = [
        (await get(`${STS}/canon`)).metadata.resourceVersion,
        (await get(`${CLUSTERS}/canon`)).metadata.resourceVersion,
      ];
      const requests = kube.requestCount;
      const second = await touch("canon");
      assert.equal(second.body.outcome, "unchanged", JSON.stringify(second));
      assert.deepEqual(second.body.writes, []);
      // the cluster, its 6 children and its pods (listed ahead, unused at
      // one replica) read; not one write
      assert.equal(kube.requestCount - requests, 8);
      assert.deepEqual([
        (await get(`${STS}/canon`)).metadata.resourceVersion,
        (await get(`${CLUSTERS}/canon`)).metadata.resourceVersion,
      ], versions);
    },
  );

  await t.step(
    "an event's version the apiserver cannot read: the latest is read instead",
    async () => {
      // not a failed pass (a 500 or, for a version ahead of this
      // apiserver, a 504), which the adapter would redeliver again and again
      for (const path of [`${CLUSTERS}/db`, `${STS}/db`]) {
        const object = await get(path);
        const { status, body } = await post(
          "dev.knative.apiserver.resource.update",
          { ...object, metadata: { ...object.metadata, resourceVersion: "x" } },
        );
        assert.equal(status, 200, JSON.stringify(body));
        assert.ok(["unchanged", "reconciled"].includes(body.outcome), path);
      }
    },
  );

  await t.step(
    "a burst's creation takes up the pending ones, listed as new as its event",
    async () => {
      const names = ["burst-a", "burst-b", "burst-c", "burst-d"];
      await applyObjects(
        cp.kube,
        names.map((name) => cluster(name, { ...SPEC, replicas: 1 })),
      );
      // the add events the adapter sends: the stored objects, no status
      const added = async (name: string) =>
        await post(
          "dev.knative.apiserver.resource.add",
          await get(`${CLUSTERS}/${name}`),
        );
      const first = await added("burst-a");
      assert.equal(first.body.outcome, "reconciled");
      assert.equal(first.body.alongside, undefined, "one creation: no burst");
      // within 2 s of the first: the pending ones are listed (the function's
      // query — a version, its match, a limit and a field selector — as the
      // real apiserver takes it) and reconciled beside it
      const second = await added("burst-b");
      assert.equal(second.status, 200, JSON.stringify(second.body));
      for (const name of ["burst-c", "burst-d"]) {
        assert.ok(
          second.body.alongside?.includes(`${NS}/${name}`),
          `${name} taken up: ${JSON.stringify(second.body)}`,
        );
      }
      for (const name of names) {
        assert.ok((await get(`${CLUSTERS}/${name}`)).status?.phase, name);
      }
      // their own events then find what the pass read: echoes
      assert.equal((await added("burst-c")).body.outcome, "echo");
    },
  );

  await t.step(
    "a StatefulSet's event: the StatefulSet read as new as the event, the cluster at its latest",
    async () => {
      // a new version of the StatefulSet (not an echo of the last pass)
      const sts = await get(`${STS}/db`);
      const changed = await cp.kube.request<Any>("PUT", `${STS}/db/status`, {
        body: {
          ...sts,
          status: { ...sts.status, readyReplicas: 4, availableReplicas: 4 },
        },
      });
      const version = changed.metadata.resourceVersion;
      const { status, body } = await post(
        "dev.knative.apiserver.resource.update",
        changed,
      );
      assert.equal(status, 200, JSON.stringify(body));
      const reads = await auditedReads(cp.auditLogPath);
      assert.ok(
        reads.includes(
          `/apis/apps/v1/namespaces/${NS}/statefulsets/db?resourceVersion=${version}`,
        ),
        "the StatefulSet read at least as new as its event",
      );
      // a StatefulSet's version would make the clusters' cache wait
      assert.deepEqual(
        reads.filter((uri) =>
          uri.startsWith(`${CLUSTERS}/db?`) &&
          uri.includes(`resourceVersion=${version}`)
        ),
        [],
        "the cluster read without the StatefulSet's version",
      );
    },
  );
});
