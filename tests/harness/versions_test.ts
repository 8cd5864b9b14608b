import assert from "node:assert/strict";
import { GO_MODULES_DIR } from "./paths.ts";
import {
  ETCD_VERSION,
  EVENTING_VERSION,
  KUBERNETES_VERSION,
} from "./versions.ts";

async function goMod(module: string): Promise<string> {
  return await Deno.readTextFile(`${GO_MODULES_DIR}/${module}/go.mod`);
}

function required(mod: string, path: string): string | undefined {
  const match = new RegExp(
    `^\\s*(?:require\\s+)?${path.replaceAll(".", "\\.")} (v\\S+)`,
    "m",
  )
    .exec(mod);
  return match?.[1];
}

Deno.test("go wrapper modules pin the versions the harness reports", async () => {
  assert.equal(
    required(await goMod("kubernetes"), "k8s.io/kubernetes"),
    KUBERNETES_VERSION,
  );
  assert.equal(
    required(await goMod("etcd"), "go.etcd.io/etcd/server/v3"),
    ETCD_VERSION,
  );
  assert.equal(
    required(await goMod("eventing"), "knative.dev/eventing"),
    EVENTING_VERSION,
  );
});

Deno.test("kubernetes wrapper module replaces every staging module with the matching release", async () => {
  const mod = await goMod("kubernetes");
  const staging = KUBERNETES_VERSION.replace(/^v1\./, "v0.");
  const replaces = [
    ...mod.matchAll(/^\s*(k8s\.io\/[\w.-]+) => (k8s\.io\/[\w.-]+) (v\S+)$/gm),
  ];
  assert.ok(
    replaces.length >= 31,
    `expected the 31 staging modules, found ${replaces.length}`,
  );
  for (const [, from, to, version] of replaces) {
    assert.equal(to, from, `${from} is replaced by itself`);
    assert.equal(version, staging, `${from} at ${staging}`);
  }
  for (
    const name of ["api", "apimachinery", "apiserver", "client-go", "kubectl"]
  ) {
    assert.ok(
      replaces.some((r) => r[1] === `k8s.io/${name}`),
      `k8s.io/${name} replaced`,
    );
  }
});
