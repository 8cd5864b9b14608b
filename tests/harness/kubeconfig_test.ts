import assert from "node:assert/strict";
import { parse } from "yaml";
import { renderKubeconfig } from "./kubeconfig.ts";

Deno.test("renderKubeconfig writes one cluster, user and current context", () => {
  const caCert =
    "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n";
  const config = parse(renderKubeconfig({
    server: "https://127.0.0.1:6443",
    caCert,
    token: "t0ken",
    name: "admin",
    namespace: "dev",
  }));
  assert.equal(config["current-context"], "admin");
  assert.equal(config.clusters[0].cluster.server, "https://127.0.0.1:6443");
  assert.equal(
    atob(config.clusters[0].cluster["certificate-authority-data"]),
    caCert,
  );
  assert.deepEqual(config.users, [{ name: "admin", user: { token: "t0ken" } }]);
  assert.deepEqual(config.contexts[0].context, {
    cluster: "admin",
    user: "admin",
    namespace: "dev",
  });
});
