import assert from "node:assert/strict";
import { goBinaryName, kubernetesVersionLdflags } from "./build.ts";

Deno.test("kubernetesVersionLdflags stamps gitVersion, major and minor into both version packages", () => {
  const flags = kubernetesVersionLdflags("v1.35.4");
  for (
    const pkg of [
      "k8s.io/component-base/version",
      "k8s.io/client-go/pkg/version",
    ]
  ) {
    assert.ok(flags.includes(`-X ${pkg}.gitVersion=v1.35.4`), flags);
    assert.ok(flags.includes(`-X ${pkg}.gitMajor=1`), flags);
    assert.ok(flags.includes(`-X ${pkg}.gitMinor=35`), flags);
  }
});

Deno.test("kubernetesVersionLdflags refuses a version that is not a release", () => {
  assert.throws(
    () => kubernetesVersionLdflags("1.35"),
    /not a Kubernetes release version: 1.35/,
  );
});

Deno.test("goBinaryName skips a major-version suffix like go build does", () => {
  assert.equal(goBinaryName("go.etcd.io/etcd/server/v3"), "server");
  assert.equal(goBinaryName("k8s.io/kubernetes/cmd/kubectl"), "kubectl");
  assert.equal(
    goBinaryName("knative.dev/eventing/cmd/apiserver_receive_adapter"),
    "apiserver_receive_adapter",
  );
});
