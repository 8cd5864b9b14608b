import assert from "node:assert/strict";
import {
  expectedWatches,
  missingWatches,
  type SourceConfig,
} from "./adapter.ts";

// Shaped like the lines kube-apiserver 1.35 writes for the real adapter.
function auditLine(
  objectRef: Record<string, string>,
  overrides: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    kind: "Event",
    apiVersion: "audit.k8s.io/v1",
    level: "Metadata",
    stage: "ResponseStarted",
    requestURI:
      "/api/v1/namespaces/default/serviceaccounts?sendInitialEvents=true&watch=true",
    verb: "watch",
    userAgent:
      "apiserver_receive_adapter/v0.0.0 (linux/amd64) kubernetes/$Format",
    objectRef: { apiVersion: "v1", ...objectRef },
    ...overrides,
  });
}

const CONFIG: SourceConfig = {
  namespaces: ["a", "b"],
  allNamespaces: false,
  resources: [
    {
      gvr: {
        Group: "database.example.com",
        Version: "v1",
        Resource: "mysqlclusters",
      },
    },
    { gvr: { Group: "", Version: "v1", Resource: "serviceaccounts" } },
  ],
  mode: "Resource",
};

Deno.test("expectedWatches opens one watch per resource and namespace", () => {
  assert.equal(expectedWatches(CONFIG).length, 4);
  assert.deepEqual(expectedWatches({ ...CONFIG, allNamespaces: true }), [
    { group: "database.example.com", resource: "mysqlclusters" },
    { group: "", resource: "serviceaccounts" },
  ]);
});

Deno.test("missingWatches is empty once every watch has started", () => {
  const lines = [
    auditLine({
      resource: "mysqlclusters",
      apiGroup: "database.example.com",
      namespace: "a",
    }),
    auditLine({
      resource: "mysqlclusters",
      apiGroup: "database.example.com",
      namespace: "b",
    }),
    auditLine({ resource: "serviceaccounts", namespace: "a" }),
    auditLine({ resource: "serviceaccounts", namespace: "b" }),
  ];
  assert.deepEqual(missingWatches(lines, expectedWatches(CONFIG)), []);
});

Deno.test("missingWatches ignores other clients, other stages and other namespaces", () => {
  const lines = [
    auditLine({ resource: "serviceaccounts", namespace: "a" }, {
      userAgent: "kube-apiserver/v1.35.4 (linux/amd64) kubernetes/abc",
    }),
    auditLine({ resource: "serviceaccounts", namespace: "a" }, {
      stage: "ResponseComplete",
    }),
    auditLine({ resource: "serviceaccounts", namespace: "c" }),
    auditLine({ resource: "serviceaccounts" }),
    "",
  ];
  const config = {
    ...CONFIG,
    namespaces: ["a"],
    resources: [CONFIG.resources[1]!],
  };
  assert.deepEqual(missingWatches(lines, expectedWatches(config)), [
    { group: "", resource: "serviceaccounts", namespace: "a" },
  ]);
});
