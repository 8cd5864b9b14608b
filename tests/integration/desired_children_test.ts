import assert from "node:assert/strict";
import { desiredChildren } from "../../lib/core/children.ts";
import { desiredSecret } from "../../lib/core/desired_children.ts";
import { childKey } from "../../lib/core/objects.ts";
import { mysqlClusterCrd } from "../../lib/manifests/crd.ts";
import type { KubeObject } from "../../lib/core/objects.ts";
import { FIELD_MANAGER } from "../../lib/core/labels.ts";
import type { MySQLCluster } from "../../lib/core/mysql_cluster.ts";
import { apply as operatorApply } from "../../lib/kube/api.ts";
import { KubeApiError } from "../../lib/kube/http.ts";
import { generatePassword } from "../../lib/reconcile/password.ts";
import { checkSpec } from "../../lib/core/validate.ts";
import { applyObjects, objectPath } from "../harness/apply.ts";
import { startControlPlane } from "../harness/control_plane.ts";
import { installCrds } from "../harness/crds.ts";

const CLUSTERS =
  "/apis/database.example.com/v1/namespaces/default/mysqlclusters";

Deno.test("desired children are valid objects for a real apiserver", async (t) => {
  await using cp = await startControlPlane();
  await installCrds(cp.kube, [mysqlClusterCrd()]);
  const apply = (objects: KubeObject[]) =>
    applyObjects(cp.kube, objects, { fieldManager: FIELD_MANAGER });
  const read = async (spec: Record<string, unknown>) => {
    await apply([{
      apiVersion: "database.example.com/v1",
      kind: "MySQLCluster",
      metadata: { name: "db", namespace: "default" },
      spec,
    }]);
    return await cp.kube.request<MySQLCluster>("GET", `${CLUSTERS}/db`);
  };
  const children = (
    cluster: MySQLCluster,
    observed: Map<string, KubeObject> = new Map(),
  ) => {
    const check = checkSpec(cluster);
    assert.ok(check.ok);
    return {
      secret: desiredSecret(cluster, check.spec, {
        root: generatePassword(),
        replication: generatePassword(),
        probe: generatePassword(),
      }),
      apply: desiredChildren(cluster, check.spec, observed).flatMap((child) =>
        child.object ? [child.object] : []
      ),
    };
  };

  await t.step("every child is accepted under strict validation", async () => {
    const cluster = await read({
      version: "8.4",
      storageSize: "10Gi",
      replicas: 3,
    });
    const desired = children(cluster);
    await cp.kube.request("POST", "/api/v1/namespaces/default/secrets", {
      body: desired.secret,
      query: { fieldManager: FIELD_MANAGER, fieldValidation: "Strict" },
    });
    const stored = await apply(desired.apply);
    assert.deepEqual(stored.map((o) => o.kind), [
      "ConfigMap",
      "Service",
      "Service",
      "Service",
      "StatefulSet",
      "PodDisruptionBudget",
    ]);
    for (const object of stored) {
      const owner = (object.metadata as { ownerReferences: { uid: string }[] })
        .ownerReferences[0]!;
      assert.equal(owner.uid, cluster.metadata.uid);
    }
  });

  await t.step(
    "the operator's apply refuses a field the schema does not declare",
    async () => {
      // it skips the apiserver's strict parse (fieldValidation=Ignore):
      // server-side apply must still type the body against the schema
      const cluster = await cp.kube.request<MySQLCluster>(
        "GET",
        `${CLUSTERS}/db`,
      );
      const configMap = children(cluster).apply.find((o) =>
        o.kind === "ConfigMap"
      )!;
      await assert.rejects(
        operatorApply(cp.kube, {
          ...configMap,
          spec: { replicas: 3 },
        } as KubeObject),
        (error: unknown) =>
          error instanceof KubeApiError &&
          /\.spec: field not declared in schema/.test(error.message),
      );
    },
  );

  await t.step("applying the same children again writes nothing", async () => {
    const cluster = await cp.kube.request<MySQLCluster>(
      "GET",
      `${CLUSTERS}/db`,
    );
    const desired = children(cluster);
    const before = await Promise.all(
      desired.apply.map(async (o) =>
        (await cp.kube.request("GET", await objectPath(cp.kube, o))).metadata
      ),
    );
    const after = (await apply(desired.apply)).map((o) => o.metadata);
    assert.deepEqual(
      after.map((m) => (m as { resourceVersion: string }).resourceVersion),
      before.map((m) => (m as { resourceVersion: string }).resourceVersion),
    );
  });

  await t.step(
    "growing storage and upgrading keep the immutable claim template",
    async () => {
      const cluster = await read({
        version: "9.1",
        storageSize: "50Gi",
        replicas: 3,
      });
      const statefulSet = await cp.kube.request<KubeObject>(
        "GET",
        "/apis/apps/v1/namespaces/default/statefulsets/db",
      );
      const desired = children(
        cluster,
        new Map([[childKey("StatefulSet", "db"), statefulSet]]),
      );
      // the apiserver refuses any change of volumeClaimTemplates: this apply
      // succeeding proves the template was kept
      const updated = (await apply(desired.apply)).find((o) =>
        o.kind === "StatefulSet"
      );
      const spec = updated!.spec as {
        template: { spec: { containers: { image: string }[] } };
        volumeClaimTemplates: {
          spec: { resources: { requests: { storage: string } } };
        }[];
      };
      assert.equal(spec.template.spec.containers[0]!.image, "mysql:9.1");
      assert.equal(
        spec.volumeClaimTemplates[0]!.spec.resources.requests.storage,
        "10Gi",
      );
    },
  );
});
