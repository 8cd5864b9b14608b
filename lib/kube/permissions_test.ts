import assert from "node:assert/strict";
import { KINDS } from "../core/kinds.ts";
import { permissionTable } from "./api.ts";
import { KubeApiError, KubeHttp, UndeclaredCallError } from "./http.ts";
import { PermissionSet, verbOf } from "./permissions.ts";

Deno.test("verbOf maps methods to RBAC verbs", () => {
  assert.equal(verbOf("GET", true), "get");
  assert.equal(verbOf("GET", false), "list");
  assert.equal(verbOf("POST", false), "create");
  assert.equal(verbOf("PATCH", true), "patch");
  assert.equal(verbOf("PUT", true), "update");
  assert.equal(verbOf("DELETE", true), "delete");
  assert.equal(verbOf("OPTIONS", true), undefined);
});

Deno.test("permissionTable lists each call's verb once per resource, with why", () => {
  const table = permissionTable();
  const keys = table.map((p) =>
    `${p.group}|${p.nonResourceURL ?? p.resource}|${p.verb}`
  );
  assert.equal(new Set(keys).size, keys.length);
  for (const p of table) assert.ok(p.why.length > 10, JSON.stringify(p));
  assert.ok(keys.includes("database.example.com|mysqlclusters/status|patch"));
  assert.ok(keys.includes("|secrets|create"));
  for (const verb of ["get", "list", "watch", "update", "delete"]) {
    assert.ok(!keys.includes(`|secrets|${verb}`), `no ${verb} on Secrets`);
  }
});

Deno.test("KubeHttp refuses a call the permission table does not declare, before sending it", async () => {
  using kube = new KubeHttp({
    server: "https://127.0.0.1:1",
    timeoutMs: 500,
    permissions: new PermissionSet(permissionTable()),
  });
  const before = kube.requestCount;
  await assert.rejects(
    kube.request("GET", "/api/v1/namespaces/shop/secrets/db-credentials"),
    (error: Error) =>
      error instanceof UndeclaredCallError &&
      /needs get core\/secrets/.test(error.message),
  );
  await assert.rejects(
    kube.request("DELETE", "/apis/apps/v1/namespaces/shop/statefulsets/db"),
    UndeclaredCallError,
  );
  assert.equal(kube.requestCount, before, "nothing was sent");
  // a declared call goes out (and finds nothing listening)
  await assert.rejects(
    kube.request(
      "GET",
      `/apis/${KINDS.StatefulSet.apiVersion}/namespaces/shop/statefulsets/db`,
    ),
    KubeApiError,
  );
  assert.equal(kube.requestCount, before + 1);
});
