import assert from "node:assert/strict";
import { accessFromKubeconfig, inCluster, loadKubeAccess } from "./config.ts";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const b64 = (text: string) => btoa(text);

function kubeconfig(user: Record<string, unknown>, cluster = {}): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": "c",
    contexts: [{
      name: "c",
      context: { cluster: "k", user: "u", namespace: "shop" },
    }],
    clusters: [{
      name: "k",
      cluster: { server: "https://10.0.0.1:6443", ...cluster },
    }],
    users: [{ name: "u", user }],
  });
}

Deno.test("accessFromKubeconfig reads a token and an inline CA", async () => {
  const access = await accessFromKubeconfig(
    kubeconfig({ token: "t0k" }, { "certificate-authority-data": b64(PEM) }),
    "/nowhere",
    "kubeconfig test",
  );
  assert.deepEqual(access, {
    server: "https://10.0.0.1:6443",
    namespace: "shop",
    source: "kubeconfig test (context c)",
    caCert: PEM,
    token: "t0k",
  });
});

Deno.test("accessFromKubeconfig reads block-style YAML, files relative to it, and a client certificate", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.crt`, PEM);
    await Deno.writeTextFile(`${dir}/me.crt`, "CERT");
    await Deno.writeTextFile(`${dir}/me.key`, "KEY");
    const yaml = `apiVersion: v1
kind: Config
current-context: c
clusters:
- name: k
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: ca.crt
users:
- name: u
  user:
    client-certificate: ${dir}/me.crt
    client-key: me.key
contexts:
- name: c
  context: {cluster: k, user: u}
`;
    const access = await accessFromKubeconfig(yaml, dir, "kubeconfig f");
    assert.equal(access?.caCert, PEM);
    assert.deepEqual(access?.clientCert, { cert: "CERT", key: "KEY" });
    assert.equal(access?.namespace, "default");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("accessFromKubeconfig re-reads a token file, and leaves exec plugins to client-node", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/token`, "one\n");
    const access = await accessFromKubeconfig(
      kubeconfig({ tokenFile: "token" }),
      dir,
      "k",
    );
    assert.equal(await access?.authorization?.(), "Bearer one");
    await Deno.writeTextFile(`${dir}/token`, "two\n");
    assert.equal(await access?.authorization?.(), "Bearer two");
    assert.equal(
      await accessFromKubeconfig(
        kubeconfig({ exec: { command: "aws", apiVersion: "x" } }),
        dir,
        "k",
      ),
      undefined,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inCluster reads the ServiceAccount's token, CA and namespace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ca.crt`, PEM);
    await Deno.writeTextFile(`${dir}/namespace`, "mysql-operator");
    await Deno.writeTextFile(`${dir}/token`, "sa-token");
    const env: Record<string, string> = {
      KUBERNETES_SERVICE_HOST: "10.96.0.1",
      KUBERNETES_SERVICE_PORT: "443",
    };
    const access = await inCluster(dir, (name) => env[name]);
    assert.equal(access?.server, "https://10.96.0.1:443");
    assert.equal(access?.namespace, "mysql-operator");
    assert.equal(access?.caCert, PEM);
    assert.equal(await access?.authorization?.(), "Bearer sa-token");
    assert.equal(await inCluster(dir, () => undefined), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadKubeAccess says which kubeconfig is missing", async () => {
  await assert.rejects(
    loadKubeAccess("/nonexistent/kubeconfig"),
    /kubeconfig \/nonexistent\/kubeconfig does not exist/,
  );
});

Deno.test("CLIENT_NODE_CONFIG is the version the import map pins", async () => {
  const { CLIENT_NODE_CONFIG } = await import("./config.ts");
  const map = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  ).imports["@kubernetes/client-node"] as string;
  const pinned = /@\^?([\d.]+)$/.exec(map)?.[1];
  assert.equal(
    CLIENT_NODE_CONFIG,
    `npm:@kubernetes/client-node@${pinned}/dist/config.js`,
  );
});
