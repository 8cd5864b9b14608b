import assert from "node:assert/strict";
import { isTransient } from "./errors.ts";
import { KubeApiError } from "./http.ts";

const apply = (status: number, reason: string, detail: string) =>
  new KubeApiError(
    "PATCH",
    "/api/v1/namespaces/shop/services/db",
    status,
    reason,
    detail,
  );

Deno.test("isTransient retries what a later attempt may not meet", () => {
  assert.ok(isTransient(apply(0, "", "connection refused")));
  assert.ok(isTransient(apply(429, "TooManyRequests", "slow down")));
  assert.ok(isTransient(apply(503, "ServiceUnavailable", "")));
  // the apiserver's own IP allocation failed (it was shutting down)
  assert.ok(isTransient(apply(
    422,
    "Invalid",
    'Service "db-mysql-read" is invalid: spec.clusterIPs: Invalid value: [""]: failed to allocate IP: Post "https://127.0.0.1:6443/apis/networking.k8s.io/v1/ipaddresses": dial tcp 127.0.0.1:6443: connect: connection refused',
  )));
});

Deno.test("isTransient does not retry what the object itself causes", () => {
  assert.ok(!isTransient(apply(400, "BadRequest", "error decoding")));
  assert.ok(!isTransient(apply(403, "Forbidden", "no")));
  assert.ok(!isTransient(apply(409, "Conflict", "changed")));
  assert.ok(
    !isTransient(apply(
      422,
      "Invalid",
      'Service "db" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    )),
  );
  // a cluster IP the request asked for, which is taken: not a retry's to fix
  assert.ok(
    !isTransient(apply(
      422,
      "Invalid",
      'Service "db" is invalid: spec.clusterIPs: Invalid value: ["10.0.0.5"]: failed to allocate IP 10.0.0.5: provided IP is already allocated',
    )),
  );
  assert.ok(!isTransient(new Error("not from the API")));
});
