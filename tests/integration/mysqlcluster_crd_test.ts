import assert from "node:assert/strict";
import { KubeApiError } from "../../lib/kube/http.ts";
import type { KubeObject } from "../../lib/core/objects.ts";
import { CRD_PATH, mysqlClusterCrd } from "../../lib/manifests/crd.ts";
import { applyObjects, parseManifests } from "../harness/apply.ts";
import { startControlPlane } from "../harness/control_plane.ts";
import { installCrds } from "../harness/crds.ts";
import { REPO_ROOT } from "../harness/paths.ts";

const BASE = "/apis/database.example.com/v1/namespaces/default/mysqlclusters";

function cluster(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "database.example.com/v1",
    kind: "MySQLCluster",
    metadata: { name, namespace: "default" },
    spec,
  };
}

async function refused(promise: Promise<unknown>): Promise<KubeApiError> {
  const error = await promise.then(
    () => assert.fail("the apiserver accepted it"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof KubeApiError, String(error));
  return error;
}

Deno.test("MySQLCluster CRD is enforced by a real apiserver", async (t) => {
  await using cp = await startControlPlane();
  const refusedCreate = (name: string, spec: Record<string, unknown>) =>
    refused(cp.kube.request("POST", BASE, { body: cluster(name, spec) }));
  const committed = parseManifests(
    await Deno.readTextFile(`${REPO_ROOT}/${CRD_PATH}`),
  );
  assert.deepEqual(
    committed,
    [mysqlClusterCrd()],
    "committed CRD is the generated one",
  );
  await installCrds(cp.kube, committed);

  await t.step(
    "both samples are accepted, with defaults filled in",
    async () => {
      for (
        const file of ["mysqlcluster_minimal.yaml", "mysqlcluster_full.yaml"]
      ) {
        const objects = parseManifests(
          await Deno.readTextFile(`${REPO_ROOT}/knative/samples/${file}`),
          file,
        );
        await applyObjects(cp.kube, objects);
      }
      const minimal = await cp.kube.request("GET", `${BASE}/demo`);
      assert.deepEqual(minimal.spec, {
        version: "8.4",
        storageSize: "10Gi",
        replicas: 1,
        resources: { cpu: "500m", memory: "1Gi" },
        deletionPolicy: "Retain",
      });
      const full = await cp.kube.request("GET", `${BASE}/orders`);
      assert.equal(
        (full.spec as { resources: { cpu: unknown } }).resources.cpu,
        2,
      );
    },
  );

  await t.step("negative replicas are refused", async () => {
    const error = await refusedCreate("neg", {
      version: "8.4",
      storageSize: "1Gi",
      replicas: -1,
    });
    assert.equal(error.status, 422);
    assert.match(
      error.message,
      /spec\.replicas: Invalid value: -1: spec\.replicas in body should be greater than or equal to 0/,
    );
  });

  await t.step("too many replicas are refused", async () => {
    const error = await refusedCreate("many", {
      version: "8.4",
      storageSize: "1Gi",
      replicas: 10,
    });
    assert.match(error.message, /spec\.replicas.*less than or equal to 9/);
  });

  await t.step('"10 gigs" is refused as a storage size', async () => {
    const error = await refusedCreate("gigs", {
      version: "8.4",
      storageSize: "10 gigs",
    });
    assert.equal(error.status, 422);
    assert.match(error.message, /spec\.storageSize: Invalid value: "10 gigs"/);
  });

  await t.step(
    "a bad version and a bad memory quantity are refused",
    async () => {
      const version = await refusedCreate("ver", {
        version: "latest",
        storageSize: "1Gi",
      });
      assert.match(version.message, /spec\.version: Invalid value: "latest"/);
      const memory = await refusedCreate("mem", {
        version: "8.4",
        storageSize: "1Gi",
        resources: { cpu: 1, memory: "lots" },
      });
      assert.match(
        memory.message,
        /spec\.resources\.memory: Invalid value: "lots"/,
      );
    },
  );

  await t.step(
    "an unknown field is refused under strict validation",
    async () => {
      const error = await refused(
        cp.kube.request("POST", BASE, {
          body: cluster("typo", {
            version: "8.4",
            storageSize: "1Gi",
            replica: 3,
          }),
          query: { fieldValidation: "Strict" },
        }),
      );
      assert.match(error.message, /unknown field "spec\.replica"/);
    },
  );

  await t.step(
    "shrinking storageSize is refused; growing it is accepted",
    async () => {
      const error = await refused(
        applyObjects(cp.kube, [
          cluster("demo", { version: "8.4", storageSize: "5Gi" }),
        ]),
      );
      assert.equal(error.status, 422);
      assert.match(
        error.message,
        /storageSize cannot shrink: volumes can only grow/,
      );
      await applyObjects(cp.kube, [
        cluster("demo", { version: "8.4", storageSize: "20Gi" }),
      ]);
      const grown = await cp.kube.request("GET", `${BASE}/demo`);
      assert.equal((grown.spec as { storageSize: string }).storageSize, "20Gi");
    },
  );

  await t.step(
    "kubectl scale changes spec.replicas through the scale subresource",
    async () => {
      const result = await cp.kubectl([
        "scale",
        "mysqlcluster",
        "demo",
        "--replicas=3",
      ]);
      assert.equal(result.code, 0, result.stderr);
      const scaled = await cp.kube.request("GET", `${BASE}/demo`);
      assert.equal((scaled.spec as { replicas: number }).replicas, 3);
      const tooMany = await cp.kubectl([
        "scale",
        "mysql",
        "demo",
        "--replicas=12",
      ]);
      assert.notEqual(tooMany.code, 0);
      assert.match(tooMany.stderr, /less than or equal to 9/);
    },
  );

  await t.step("kubectl explain teaches the spec", async () => {
    const result = await cp.kubectl(["explain", "mysqlcluster.spec"]);
    assert.equal(result.code, 0, result.stderr);
    for (
      const field of [
        "version",
        "replicas",
        "storageSize",
        "resources",
        "storageClassName",
        "deletionPolicy",
      ]
    ) {
      assert.match(
        result.stdout,
        new RegExp(`^\\s+${field}\\s`, "m"),
        `${field} listed`,
      );
    }
    assert.match(result.stdout, /never\s+shrink/);
    const policy = await cp.kubectl([
      "explain",
      "mysqlcluster.spec.deletionPolicy",
    ]);
    assert.match(policy.stdout, /Retain \(default\) keeps them/);
  });

  await t.step("kubectl get shows the printer columns", async () => {
    const result = await cp.kubectl(["get", "mysql"]);
    assert.equal(result.code, 0, result.stderr);
    const header = result.stdout.split("\n")[0]!.split(/\s+/);
    assert.deepEqual(header, [
      "NAME",
      "READY",
      "PHASE",
      "REPLICAS",
      "VERSION",
      "AGE",
    ]);
  });
});
