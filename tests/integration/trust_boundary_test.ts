/**
 * The trust boundary against a real apiserver, with `knative/base/`'s RBAC
 * and admission policy applied and the function acting with its own
 * ServiceAccount's token: what it must not do is refused by the apiserver;
 * forged names reach nothing; objects of a child's name that belong to
 * someone else are left untouched and the conflict is reported.
 */

import assert from "node:assert/strict";
import { CloudEvent, HTTP } from "cloudevents";
import { createHandler } from "../../functions/handler.ts";
import { FIELD_MANAGER } from "../../lib/core/labels.ts";
import { permissionTable } from "../../lib/kube/api.ts";
import { KubeApiError, KubeHttp } from "../../lib/kube/http.ts";
import { PermissionSet } from "../../lib/kube/permissions.ts";
import { applyObjects, parseManifests } from "../harness/apply.ts";
import { clusterManifest, startOperatorBed } from "../harness/operator_bed.ts";
import { REPO_ROOT } from "../harness/paths.ts";
import { serviceAccountToken } from "../harness/service_accounts.ts";
import { eventually } from "../harness/wait.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const NS = "shop";
const OTHER = "other";
const CORE = `/api/v1/namespaces/${NS}`;
const STS = `/apis/apps/v1/namespaces/${NS}/statefulsets`;
const PDB = `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets`;
const CLUSTERS = `/apis/database.example.com/v1/namespaces/${NS}/mysqlclusters`;

/** The request options of a JSON merge patch of `body` (with `query`). */
function merge(body: Record<string, unknown>, query?: Record<string, string>) {
  return {
    body,
    contentType: "application/merge-patch+json",
    ...(query ? { query } : {}),
  };
}

Deno.test("trust boundary: the function acts only on what its clusters own", async (t) => {
  await using cp = await startOperatorBed(NS);
  await applyObjects(cp.kube, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: OTHER } },
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "mysql-operator" },
    },
  ]);
  for (const file of ["rbac.yaml", "admission_policy.yaml"]) {
    await applyObjects(
      cp.kube,
      parseManifests(
        await Deno.readTextFile(`${REPO_ROOT}/knative/base/${file}`),
        file,
      ).map((o) =>
        o.kind === "ServiceAccount"
          ? { ...o, metadata: { ...o.metadata, namespace: "mysql-operator" } }
          : o
      ),
    );
  }
  const token = await serviceAccountToken(
    cp.kube,
    "mysql-operator",
    "mysql-operator-fn",
  );
  // the function's identity: guarded as in production, and raw for probing
  using fn = new KubeHttp({
    server: cp.server,
    caCert: cp.caCert,
    token,
    permissions: new PermissionSet(permissionTable()),
  });
  using raw = cp.clientFor(token);
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createHandler({ kube: fn }),
  );
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const post = async (type: string, data: unknown) => {
    const message = HTTP.binary(
      new CloudEvent({ type, source: cp.server, data }),
    );
    const response = await fetch(url, {
      method: "POST",
      headers: message.headers as Record<string, string>,
      body: message.body as string,
    });
    return { status: response.status, body: await response.json() as Any };
  };
  const touch = (name: string, namespace = NS) =>
    post("dev.knative.apiserver.resource.update", {
      apiVersion: "database.example.com/v1",
      kind: "MySQLCluster",
      metadata: { name, namespace },
    });
  const get = (path: string) => cp.kube.request<Any>("GET", path);
  /** Every object's resourceVersion in both namespaces, by path. */
  const snapshot = async () => {
    const versions: Record<string, string> = {};
    for (const namespace of [NS, OTHER]) {
      for (
        const collection of [
          `/api/v1/namespaces/${namespace}/services`,
          `/api/v1/namespaces/${namespace}/configmaps`,
          `/api/v1/namespaces/${namespace}/secrets`,
          `/api/v1/namespaces/${namespace}/pods`,
          `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
          `/api/v1/namespaces/${namespace}/events`,
          `/apis/apps/v1/namespaces/${namespace}/statefulsets`,
          `/apis/policy/v1/namespaces/${namespace}/poddisruptionbudgets`,
          `/apis/database.example.com/v1/namespaces/${namespace}/mysqlclusters`,
        ]
      ) {
        for (const item of (await get(collection)).items) {
          versions[`${collection}/${item.metadata.name}`] =
            item.metadata.resourceVersion;
        }
      }
    }
    return versions;
  };

  // a cluster of the function's own, with a pod as the StatefulSet makes it
  await applyObjects(cp.kube, [clusterManifest(NS, "db")]);
  await eventually("the admission policy is in force", async () => {
    const refused = await raw.request("POST", `${STS}`, {
      body: {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "probe" },
        spec: {
          selector: { matchLabels: { a: "b" } },
          serviceName: "probe",
          template: {
            metadata: { labels: { a: "b" } },
            spec: { containers: [{ name: "c", image: "x" }] },
          },
        },
      },
      query: { dryRun: "All" },
    }).then(() => undefined, (e) => e);
    assert.ok(refused instanceof KubeApiError && refused.status === 403);
  }, 20_000);
  const created = await touch("db");
  assert.equal(created.status, 200, JSON.stringify(created.body));
  assert.equal(created.body.outcome, "reconciled");
  const sts = await get(`${STS}/db`);
  await cp.kube.request("POST", `${CORE}/pods`, {
    body: {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "db-0",
        labels: sts.spec.template.metadata.labels,
        ownerReferences: [{
          apiVersion: "apps/v1",
          kind: "StatefulSet",
          name: "db",
          uid: sts.metadata.uid,
          controller: true,
        }],
      },
      spec: { containers: [{ name: "mysql", image: "mysql:8.4" }] },
    },
  });
  // someone else's objects
  await applyObjects(cp.kube, [
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "web", namespace: NS },
      spec: {
        selector: { matchLabels: { app: "web" } },
        serviceName: "web",
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "web", image: "nginx" }] },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "web-0",
        namespace: NS,
        labels: { app: "web", "app.kubernetes.io/name": "mysql" },
      },
      spec: { containers: [{ name: "web", image: "nginx" }] },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "web-credentials", namespace: NS },
      stringData: { password: "theirs" },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "web", namespace: NS },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: "web" } } },
    },
    // a claim that can grow (expandable class, bound), so that only RBAC or
    // the admission policy can refuse growing it
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "expandable" },
      provisioner: "example.com/none",
      allowVolumeExpansion: true,
    },
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: {
        name: "data-web-0",
        namespace: NS,
        labels: { app: "web" },
      },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "expandable",
        resources: { requests: { storage: "1Gi" } },
      },
    },
  ]);
  const claim = await cp.kube.request<Any>(
    "GET",
    `/api/v1/namespaces/${NS}/persistentvolumeclaims/data-web-0`,
  );
  await cp.kube.request(
    "PUT",
    `/api/v1/namespaces/${NS}/persistentvolumeclaims/data-web-0/status`,
    {
      body: {
        ...claim,
        status: { phase: "Bound", capacity: { storage: "1Gi" } },
      },
    },
  );

  await t.step(
    "RBAC and the admission policy refuse, with the function's own token, what it must not do",
    async () => {
      const before = await snapshot();
      const attempts: [string, string, string, Record<string, unknown>][] = [
        [
          "change a cluster's spec",
          "PATCH",
          `${CLUSTERS}/db`,
          merge({ spec: { replicas: 9 } }),
        ],
        ["read a Secret", "GET", `${CORE}/secrets/db-credentials`, {}],
        ["create a pod", "POST", `${CORE}/pods`, {
          body: {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "rogue" },
            spec: { containers: [{ name: "c", image: "x" }] },
          },
        }],
        [
          "take over someone else's StatefulSet",
          "PATCH",
          `${STS}/web`,
          {
            body: {
              apiVersion: "apps/v1",
              kind: "StatefulSet",
              metadata: { name: "web", namespace: NS },
              spec: { replicas: 0 },
            },
            contentType: "application/apply-patch+yaml",
            query: { fieldManager: FIELD_MANAGER, force: "true" },
          },
        ],
        [
          "label someone else's pod",
          "PATCH",
          `${CORE}/pods/web-0`,
          merge({
            metadata: { labels: { "database.example.com/role": "primary" } },
          }),
        ],
        [
          "change another label of its own pod",
          "PATCH",
          `${CORE}/pods/db-0`,
          merge({
            metadata: { labels: { "app.kubernetes.io/instance": "web" } },
          }),
        ],
        [
          "annotate its own pod",
          "PATCH",
          `${CORE}/pods/db-0`,
          merge({ metadata: { annotations: { x: "y" } } }),
        ],
        [
          "create a Secret that is not a cluster's credentials",
          "POST",
          `${CORE}/secrets`,
          {
            body: {
              apiVersion: "v1",
              kind: "Secret",
              metadata: { name: "loot" },
              stringData: { a: "b" },
            },
          },
        ],
        [
          "change its own credentials",
          "PATCH",
          `${CORE}/secrets/db-credentials`,
          merge({ stringData: { "root-password": "x" } }),
        ],
        [
          "read someone else's Secret through a dry-run patch",
          "PATCH",
          `${CORE}/secrets/web-credentials`,
          merge({}, { dryRun: "All" }),
        ],
        ["delete someone else's budget", "DELETE", `${PDB}/web`, {}],
        [
          "grow someone else's volume",
          "PATCH",
          `${CORE}/persistentvolumeclaims/data-web-0`,
          merge({ spec: { resources: { requests: { storage: "2Gi" } } } }),
        ],
      ];
      for (const [what, method, path, options] of attempts) {
        const error = await raw.request(method, path, options).then(
          () => undefined,
          (e) => e,
        );
        assert.ok(
          error instanceof KubeApiError && [403, 422].includes(error.status),
          `${what}: ${error?.message ?? "allowed"}`,
        );
      }
      assert.deepEqual(await snapshot(), before, "nothing changed");
      // the volume could grow: the refusal above was the function's limits
      await cp.kube.request(
        "PATCH",
        `${CORE}/persistentvolumeclaims/data-web-0`,
        merge({ spec: { resources: { requests: { storage: "2Gi" } } } }, {
          dryRun: "All",
        }),
      );
      // what it may do: its pods' role label, its Secret's metadata
      await raw.request(
        "PATCH",
        `${CORE}/pods/db-0`,
        merge({
          metadata: { labels: { "database.example.com/role": "primary" } },
        }),
      );
      const partial = await raw.request<Any>(
        "PATCH",
        `${CORE}/secrets/db-credentials`,
        {
          ...merge({}, { dryRun: "All" }),
          accept:
            "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
        },
      );
      assert.equal(partial.kind, "PartialObjectMetadata");
      assert.equal(partial.data, undefined, "no data enters the function");
    },
  );

  await t.step(
    "forged names and paths are refused, and nothing anywhere changes",
    async () => {
      // a victim in another namespace: a forged path must never reach it
      await applyObjects(cp.kube, [clusterManifest(OTHER, "victim")]);
      const before = await snapshot();
      const names = [
        "..",
        "%2e%2e",
        "../../other/mysqlclusters/victim",
        "..%2f..%2fother%2fmysqlclusters%2fvictim",
        "db?x=1",
        "db#x",
        "db/status",
        "DB",
        "x".repeat(254),
        "",
      ];
      for (const name of names) {
        const answer = await touch(name);
        assert.equal(answer.status, 400, `${name}: ${JSON.stringify(answer)}`);
        assert.match(answer.body.error, /DNS-1123|missing/);
      }
      for (const namespace of ["..", "../other", "Shop", "a.b", "shop/x"]) {
        const answer = await touch("db", namespace);
        assert.equal(answer.status, 400, namespace);
      }
      // a child whose owner name walks out of its path
      const child = await post("dev.knative.apiserver.resource.update", {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: {
          name: "db",
          namespace: NS,
          ownerReferences: [{
            apiVersion: "database.example.com/v1",
            kind: "MySQLCluster",
            name: "../../other/mysqlclusters/victim",
            uid: "x",
            controller: true,
          }],
        },
      });
      assert.equal(child.status, 400);
      // Reference mode
      const ref = await post("dev.knative.apiserver.ref.update", {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        namespace: NS,
        name: "../../other/statefulsets/x",
      });
      assert.equal(ref.status, 400);
      assert.deepEqual(await snapshot(), before, "nothing changed");
      assert.equal(
        (await get(
          `/apis/database.example.com/v1/namespaces/${OTHER}/mysqlclusters/victim`,
        )).status,
        undefined,
        "the victim has no status",
      );
    },
  );

  await t.step(
    "objects of a child's name that belong to someone else are untouched and the conflict is reported",
    async () => {
      await applyObjects(cp.kube, [
        {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "web-mysql", namespace: NS },
          spec: { ports: [{ port: 80 }], selector: { app: "web" } },
        },
        clusterManifest(NS, "web", {
          version: "8.4",
          storageSize: "1Gi",
          replicas: 1,
        }),
      ]);
      const before = await snapshot();
      const answer = await touch("web");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.outcome, "blocked");
      assert.deepEqual(answer.body.writes, ["status", "event ChildConflict"]);
      const after = await snapshot();
      for (const [path, version] of Object.entries(before)) {
        if (path.endsWith("/mysqlclusters/web")) continue;
        assert.equal(after[path], version, `${path} unchanged`);
      }
      const cluster = await get(`${CLUSTERS}/web`);
      assert.equal(cluster.status.phase, "Blocked");
      const ready = cluster.status.conditions.find((c: Any) =>
        c.type === "Ready"
      );
      assert.equal(ready.reason, "ChildConflict");
      // the Secret, the StatefulSet and the Service of its names are all someone else's
      assert.match(ready.message, /Secret shop\/web-credentials/);
      assert.match(ready.message, /StatefulSet shop\/web/);
      assert.match(ready.message, /Service shop\/web-mysql/);
      const events = (await get(
        `${CORE}/events?fieldSelector=involvedObject.name=web`,
      )).items.map((e: Any) => `${e.type}/${e.reason}`);
      assert.deepEqual(events, ["Warning/ChildConflict"]);
    },
  );

  await t.step(
    "a budget of the name at one replica is someone else's: not deleted",
    async () => {
      await applyObjects(cp.kube, [
        {
          apiVersion: "policy/v1",
          kind: "PodDisruptionBudget",
          metadata: { name: "solo", namespace: NS },
          spec: { maxUnavailable: 1, selector: { matchLabels: { a: "b" } } },
        },
        clusterManifest(NS, "solo", {
          version: "8.4",
          storageSize: "1Gi",
          replicas: 1,
        }),
      ]);
      const budget = await get(`${PDB}/solo`);
      const answer = await touch("solo");
      assert.equal(answer.status, 200);
      assert.equal(answer.body.outcome, "reconciled");
      assert.ok(
        !answer.body.writes.includes("delete PodDisruptionBudget solo"),
      );
      assert.equal(
        (await get(`${PDB}/solo`)).metadata.resourceVersion,
        budget.metadata.resourceVersion,
      );
    },
  );

  await t.step(
    "once what blocked it is gone, the cluster is made",
    async () => {
      for (
        const path of [
          `${CORE}/services/web-mysql`,
          `${CORE}/secrets/web-credentials`,
          `${STS}/web`,
          `${CORE}/pods/web-0`,
        ]
      ) {
        await cp.kube.request("DELETE", path);
      }
      const answer = await touch("web");
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.outcome, "reconciled");
      assert.equal((await get(`${CLUSTERS}/web`)).status.phase, "Provisioning");
      const secret = await get(`${CORE}/secrets/web-credentials`);
      assert.equal(
        secret.metadata.labels["app.kubernetes.io/managed-by"],
        FIELD_MANAGER,
      );
    },
  );
});
