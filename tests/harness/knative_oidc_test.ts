import assert from "node:assert/strict";
import { childName, oidcServiceAccountName } from "./knative_oidc.ts";

Deno.test("childName keeps short names and hashes long ones as knative.dev/pkg does", () => {
  assert.equal(childName("foo", "-bar"), "foo-bar");
  // the suffix fits with a shortened parent: parent head + md5(parent) + suffix
  const medium = childName("a".repeat(60), "-suffix");
  assert.equal(medium.length, 63);
  assert.match(medium, /^a{24}[0-9a-f]{32}-suffix$/);
  // the suffix is too long to keep whole: parent head + md5(parent+suffix) + suffix head
  const long = childName(
    "mysql-operator-clusters",
    "-oidc-sources.knative.dev-apiserversource",
  );
  assert.equal(long.length, 63);
  assert.match(long, /^mysql-operator-clusters[0-9a-f]{32}-oidc-so$/);
});

Deno.test("oidcServiceAccountName names a source's sender identity", () => {
  assert.equal(
    oidcServiceAccountName({
      name: "mysql-clusters",
      apiVersion: "sources.knative.dev/v1",
      kind: "ApiServerSource",
    }),
    "mysql-clusters-oidc-sources.knative.dev-apiserversource",
  );
  assert.equal(
    oidcServiceAccountName({
      name: "mysql-resync",
      apiVersion: "sources.knative.dev/v1",
      kind: "PingSource",
    }),
    "mysql-resync-oidc-sources.knative.dev-pingsource",
  );
});
