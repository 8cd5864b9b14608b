import assert from "node:assert/strict";
import { createHandler } from "../../functions/handler.ts";
import { loadKubeAccess } from "../../lib/kube/config.ts";
import { KubeHttp } from "../../lib/kube/http.ts";
import { applyObjects } from "../harness/apply.ts";
import { clusterUpdateEvent, postEvent } from "../harness/events.ts";
import { clusterManifest, startOperatorBed } from "../harness/operator_bed.ts";
import { eventually } from "../harness/wait.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const NS = "secure";
const CLUSTERS = `/apis/database.example.com/v1/namespaces/${NS}/mysqlclusters`;
const CORE = `/api/v1/namespaces/${NS}`;
const STS = `/apis/apps/v1/namespaces/${NS}/statefulsets`;

Deno.test("MySQL topology on a real apiserver", async (t) => {
  await using cp = await startOperatorBed("default");
  await applyObjects(cp.kube, [{
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: NS,
      labels: {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
      },
    },
  }]);
  using kube = new KubeHttp(await loadKubeAccess(cp.kubeconfigPath));
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createHandler({ kube }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const reconcile = async (name: string) => {
    const response = await postEvent(
      url,
      clusterUpdateEvent(cp.server, NS, name),
    );
    const body = await response.json();
    assert.equal(response.status, 200, JSON.stringify(body));
    return body as Any;
  };
  const get = (path: string) => cp.kube.request<Any>("GET", path);
  const podFrom = (
    sts: Any,
    ordinal: number,
    extra: Record<string, string> = {},
  ) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${sts.metadata.name}-${ordinal}`,
      namespace: NS,
      labels: {
        ...sts.spec.template.metadata.labels,
        "statefulset.kubernetes.io/pod-name": `${sts.metadata.name}-${ordinal}`,
        "apps.kubernetes.io/pod-index": String(ordinal),
        ...extra,
      },
      ownerReferences: [{
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        name: sts.metadata.name,
        uid: sts.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    // as the StatefulSet controller makes it: the template plus the claim
    spec: {
      ...sts.spec.template.spec,
      hostname: `${sts.metadata.name}-${ordinal}`,
      subdomain: sts.spec.serviceName,
      volumes: [
        ...sts.spec.template.spec.volumes,
        {
          name: "data",
          persistentVolumeClaim: {
            claimName: `data-${sts.metadata.name}-${ordinal}`,
          },
        },
      ],
    },
  });
  const selected = async (service: string) => {
    const { spec } = await get(`${CORE}/services/${service}`);
    const selector = Object.entries(spec.selector as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`).join(",");
    const pods = await cp.kube.request<Any>("GET", `${CORE}/pods`, {
      query: { labelSelector: selector },
    });
    return pods.items.map((p: Any) => p.metadata.name).sort();
  };

  await applyObjects(cp.kube, [
    clusterManifest(NS, "db", {
      version: "8.4.3",
      storageSize: "1Gi",
      replicas: 3,
    }),
  ]);
  await reconcile("db");
  const sts = await get(`${STS}/db`);

  await t.step(
    "a Pod made from the StatefulSet's template is admitted under the restricted standard",
    async () => {
      const created = await cp.kube.request<Any>("POST", `${CORE}/pods`, {
        body: podFrom(sts, 0),
      });
      assert.equal(created.metadata.name, "db-0");
      // the standard is really enforced here
      const bad = podFrom(sts, 9);
      bad.spec = structuredClone(bad.spec);
      delete bad.spec.containers[1].securityContext.allowPrivilegeEscalation;
      await assert.rejects(
        cp.kube.request("POST", `${CORE}/pods`, { body: bad }),
        /violates PodSecurity "restricted:latest"/,
      );
    },
  );

  await t.step("the StatefulSet raises no restricted warning", async () => {
    const copy = structuredClone(sts);
    copy.metadata = { name: "db-copy", namespace: NS };
    delete copy.status;
    const result = await cp.kubectl(
      ["create", "--dry-run=server", "-f", "-"],
      { stdin: JSON.stringify(copy) },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /Warning/);
    // a template that breaks the standard does raise one
    delete copy.spec.template.spec.securityContext.seccompProfile;
    const warned = await cp.kubectl(
      ["create", "--dry-run=server", "-f", "-"],
      { stdin: JSON.stringify(copy) },
    );
    assert.match(
      warned.stderr,
      /Warning: would violate PodSecurity "restricted/,
    );
  });

  await t.step("the Services select exactly the pods they should", async () => {
    for (const ordinal of [1, 2]) {
      await cp.kube.request("POST", `${CORE}/pods`, {
        body: podFrom(sts, ordinal),
      });
    }
    // a pod of another cluster, with a role label of its own
    const other = podFrom(sts, 1, {
      "app.kubernetes.io/instance": "other",
      "database.example.com/role": "replica",
    });
    other.metadata.name = "other-1";
    other.metadata.labels["statefulset.kubernetes.io/pod-name"] = "other-1";
    await cp.kube.request("POST", `${CORE}/pods`, { body: other });
    // the operator labels the pods with their roles
    const result = await reconcile("db");
    assert.deepEqual(
      result.writes.filter((w: string) => w.startsWith("label")).sort(),
      [
        "label Pod db-0 primary",
        "label Pod db-1 replica",
        "label Pod db-2 replica",
      ],
    );
    assert.deepEqual(await selected("db-mysql"), ["db-0"]);
    assert.deepEqual(await selected("db-mysql-read"), ["db-1", "db-2"]);
    assert.deepEqual(await selected("db"), ["db-0", "db-1", "db-2"]);
    // labels are kept, not rewritten
    const again = await reconcile("db");
    assert.deepEqual(
      again.writes.filter((w: string) => w.startsWith("label")),
      [],
    );
  });

  await t.step(
    "status names the primary and says whether reads have a replica",
    async () => {
      let cluster = await get(`${CLUSTERS}/db`);
      assert.equal(cluster.status.primary, "db-0");
      let condition = cluster.status.conditions.find((c: Any) =>
        c.type === "ReplicasAvailable"
      );
      assert.equal(condition.status, "False");
      assert.equal(condition.reason, "NoReadyReplica");
      for (const name of ["db-0", "db-2"]) {
        const pod = await get(`${CORE}/pods/${name}`);
        await cp.kube.request("PUT", `${CORE}/pods/${name}/status`, {
          body: {
            ...pod,
            status: {
              phase: "Running",
              conditions: [{ type: "Ready", status: "True" }],
            },
          },
        });
      }
      // the pass lists pods from the apiserver's watch cache, which an
      // event from the sources (sent from that cache) never runs ahead of;
      // this test's own event could, right after the writes: wait for it
      await eventually(
        "the watch cache shows db-0 and db-2 ready",
        async () => {
          const list = await cp.kube.request<Any>("GET", `${CORE}/pods`, {
            query: {
              labelSelector: "app.kubernetes.io/instance=db",
              resourceVersion: "0",
            },
          });
          const ready = list.items.filter((pod: Any) =>
            pod.status?.conditions?.some((c: Any) =>
              c.type === "Ready" && c.status === "True"
            )
          );
          assert.equal(ready.length, 2);
        },
      );
      await reconcile("db");
      cluster = await get(`${CLUSTERS}/db`);
      condition = cluster.status.conditions.find((c: Any) =>
        c.type === "ReplicasAvailable"
      );
      assert.equal(condition.status, "True");
      assert.equal(
        condition.message,
        "1/2 replicas ready for reads through db-mysql-read",
      );
    },
  );

  await t.step(
    "a downgrade is refused with InvalidSpec and an Event; nothing changes",
    async () => {
      const before = await get(`${STS}/db`);
      await cp.kube.request("PATCH", `${CLUSTERS}/db`, {
        body: { spec: { version: "8.4.2" } },
        contentType: "application/merge-patch+json",
      });
      const result = await reconcile("db");
      assert.equal(result.outcome, "invalid");
      const after = await get(`${STS}/db`);
      assert.equal(
        after.metadata.resourceVersion,
        before.metadata.resourceVersion,
      );
      assert.equal(after.spec.template.spec.containers[0].image, "mysql:8.4.3");
      const cluster = await get(`${CLUSTERS}/db`);
      const ready = cluster.status.conditions.find((c: Any) =>
        c.type === "Ready"
      );
      assert.equal(ready.status, "False");
      assert.equal(ready.reason, "InvalidSpec");
      assert.match(ready.message, /8\.4\.2 is older than the running 8\.4\.3/);
      const events = await get(
        `${CORE}/events?fieldSelector=involvedObject.name=db`,
      );
      assert.ok(
        events.items.some((e: Any) =>
          e.reason === "InvalidSpec" && e.type === "Warning"
        ),
      );
      // an upgrade goes through
      await cp.kube.request("PATCH", `${CLUSTERS}/db`, {
        body: { spec: { version: "8.4.4" } },
        contentType: "application/merge-patch+json",
      });
      await reconcile("db");
      assert.equal(
        (await get(`${STS}/db`)).spec.template.spec.containers[0].image,
        "mysql:8.4.4",
      );
    },
  );

  await t.step(
    "with Retain, a cluster deleted and created again reuses its Secret",
    async () => {
      await applyObjects(cp.kube, [
        clusterManifest(NS, "keep", {
          version: "8.4",
          storageSize: "1Gi",
          deletionPolicy: "Retain",
        }),
      ]);
      await reconcile("keep");
      const secret = await get(`${CORE}/secrets/keep-credentials`);
      assert.deepEqual(Object.keys(secret.data).sort(), [
        "probe-password",
        "probe-user",
        "replication-password",
        "replication-user",
        "root-password",
      ]);
      assert.equal(secret.metadata.ownerReferences, undefined);
      await cp.kube.request("DELETE", `${CLUSTERS}/keep`);
      assert.equal((await reconcile("keep")).outcome, "absent");
      await applyObjects(cp.kube, [
        clusterManifest(NS, "keep", {
          version: "8.4",
          storageSize: "1Gi",
          deletionPolicy: "Retain",
        }),
      ]);
      const again = await reconcile("keep");
      assert.ok(!again.writes.includes("create Secret keep-credentials"));
      const reused = await get(`${CORE}/secrets/keep-credentials`);
      assert.equal(
        reused.metadata.resourceVersion,
        secret.metadata.resourceVersion,
      );
      assert.deepEqual(reused.data, secret.data);
    },
  );

  await t.step(
    "with Delete, the Secret goes with the cluster; the policy cannot change",
    async () => {
      await applyObjects(cp.kube, [
        clusterManifest(NS, "temp", {
          version: "8.4",
          storageSize: "1Gi",
          deletionPolicy: "Delete",
        }),
      ]);
      await reconcile("temp");
      const cluster = await get(`${CLUSTERS}/temp`);
      const secret = await get(`${CORE}/secrets/temp-credentials`);
      assert.equal(
        secret.metadata.ownerReferences[0].uid,
        cluster.metadata.uid,
      );
      const pvcPolicy = (await get(`${STS}/temp`)).spec
        .persistentVolumeClaimRetentionPolicy;
      assert.deepEqual(pvcPolicy, {
        whenDeleted: "Delete",
        whenScaled: "Delete",
      });
      await assert.rejects(
        cp.kube.request("PATCH", `${CLUSTERS}/temp`, {
          body: { spec: { deletionPolicy: "Retain" } },
          contentType: "application/merge-patch+json",
        }),
        /deletionPolicy is fixed at creation/,
      );
    },
  );
});
