import assert from "node:assert/strict";
import { kubeRoute } from "./route.ts";

Deno.test("kubeRoute templates namespaced objects of a group", () => {
  assert.deepEqual(
    kubeRoute("/apis/apps/v1/namespaces/shop/statefulsets/db"),
    {
      template: "/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}",
      group: "apps",
      resource: "statefulsets",
      named: true,
    },
  );
});

Deno.test("kubeRoute keeps subresources and drops the query", () => {
  assert.deepEqual(
    kubeRoute(
      "/apis/database.example.com/v1/namespaces/shop/mysqlclusters/db/status?fieldManager=x",
    ),
    {
      template:
        "/apis/database.example.com/v1/namespaces/{namespace}/mysqlclusters/{name}/status",
      group: "database.example.com",
      resource: "mysqlclusters",
      named: true,
      subresource: "status",
    },
  );
});

Deno.test("kubeRoute templates core collections and cluster-wide lists", () => {
  assert.equal(
    kubeRoute("/api/v1/namespaces/shop/persistentvolumeclaims").template,
    "/api/v1/namespaces/{namespace}/persistentvolumeclaims",
  );
  assert.equal(
    kubeRoute("/apis/database.example.com/v1/mysqlclusters").template,
    "/apis/database.example.com/v1/mysqlclusters",
  );
});

Deno.test("kubeRoute treats a namespace as an object, not a scope", () => {
  assert.equal(
    kubeRoute("/api/v1/namespaces/shop").template,
    "/api/v1/namespaces/{name}",
  );
  assert.equal(
    kubeRoute("/api/v1/namespaces/shop/status").template,
    "/api/v1/namespaces/{name}/status",
  );
});

Deno.test("kubeRoute leaves other paths as they are", () => {
  assert.equal(kubeRoute("/readyz").template, "/readyz");
  assert.equal(kubeRoute("/apis").template, "/apis");
});
