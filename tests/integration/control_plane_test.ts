import assert from "node:assert/strict";
import { loadKubeAccess } from "../../lib/kube/config.ts";
import { KubeApiError, KubeHttp } from "../../lib/kube/http.ts";
import { applyObjects } from "../harness/apply.ts";
import { startControlPlane } from "../harness/control_plane.ts";
import { installCrds, readKnativeCrds } from "../harness/crds.ts";
import { serviceAccountToken } from "../harness/service_accounts.ts";
import { KUBERNETES_VERSION } from "../harness/versions.ts";
import { eventually } from "../harness/wait.ts";

Deno.test("control plane serves a real Kubernetes API", async (t) => {
  await using cp = await startControlPlane();

  await t.step(
    "kubectl version reports the pinned client and server",
    async () => {
      const result = await cp.kubectl(["version", "-o", "json"]);
      assert.equal(result.code, 0, result.stderr);
      const versions = JSON.parse(result.stdout);
      assert.equal(versions.clientVersion.gitVersion, KUBERNETES_VERSION);
      assert.equal(versions.serverVersion.gitVersion, KUBERNETES_VERSION);
    },
  );

  await t.step("kubectl round-trips a namespace", async () => {
    const created = await cp.kubectl(["create", "namespace", "round-trip"]);
    assert.equal(created.code, 0, created.stderr);
    const got = await cp.kubectl([
      "get",
      "namespace",
      "round-trip",
      "-o",
      "json",
    ]);
    assert.equal(got.code, 0, got.stderr);
    const ns = JSON.parse(got.stdout);
    assert.equal(ns.metadata.name, "round-trip");
    assert.ok(ns.metadata.uid, "the apiserver assigned a uid");
    assert.equal(ns.status.phase, "Active");
    // No namespace controller runs, so deletion only marks it Terminating.
    const deleted = await cp.kubectl([
      "delete",
      "namespace",
      "round-trip",
      "--wait=false",
    ]);
    assert.equal(deleted.code, 0, deleted.stderr);
    const after = await cp.kube.request("GET", "/api/v1/namespaces/round-trip");
    assert.ok(
      (after.metadata as { deletionTimestamp?: string }).deletionTimestamp,
    );
  });

  await t.step("a missing object is a 404 with context", async () => {
    const error = await cp.kube.request("GET", "/api/v1/namespaces/nope").then(
      () => assert.fail("expected 404"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof KubeApiError);
    assert.equal(error.status, 404);
    assert.equal(error.reason, "NotFound");
    assert.match(
      error.message,
      /GET \/api\/v1\/namespaces\/nope: 404 NotFound/,
    );
  });

  await t.step(
    "the Knative Service CRD refuses a misspelt field under server-side apply",
    async () => {
      await installCrds(
        cp.kube,
        await readKnativeCrds(cp.binaries.knativeCrdDir),
      );
      const service = (template: Record<string, unknown>) => ({
        apiVersion: "serving.knative.dev/v1",
        kind: "Service",
        metadata: { name: "hello", namespace: "default" },
        spec: {
          template: {
            spec: {
              containers: [{ image: "example.com/hello:1" }],
              ...template,
            },
          },
        },
      });
      const error = await applyObjects(cp.kube, [
        service({ containerConcurency: 10 }),
      ])
        .then(
          () => assert.fail("a misspelt field was accepted"),
          (e: unknown) => e,
        );
      assert.ok(error instanceof KubeApiError, String(error));
      // kube-apiserver 1.35 answers a schema error in an apply patch with 500
      // ("failed to create typed patch object"), naming the field.
      assert.ok(error.status >= 400, error.message);
      assert.match(error.message, /containerConcurency/);
      assert.match(error.message, /field not declared in schema/);

      const [applied] = await applyObjects(cp.kube, [
        service({ containerConcurrency: 10 }),
      ]);
      const spec = applied!.spec as {
        template: { spec: { containerConcurrency: number } };
      };
      assert.equal(spec.template.spec.containerConcurrency, 10);
    },
  );

  await t.step("the other Knative CRDs are served", async () => {
    for (
      const [group, version, plural] of [
        ["sources.knative.dev", "v1", "apiserversources"],
        ["sources.knative.dev", "v1", "pingsources"],
        ["eventing.knative.dev", "v1", "brokers"],
        ["eventing.knative.dev", "v1", "triggers"],
      ]
    ) {
      const list = await cp.kube.request(
        "GET",
        `/apis/${group}/${version}/${plural}`,
      );
      assert.ok(Array.isArray(list.items), `${plural} list`);
    }
  });

  await t.step(
    "RBAC: a ServiceAccount token is forbidden until a RoleBinding allows it",
    async () => {
      const token = await serviceAccountToken(cp.kube, "default", "reader");
      using client = cp.clientFor(token);
      const path = "/api/v1/namespaces/default/configmaps";
      const denied = await client.request("GET", path).then(
        () => assert.fail("listed ConfigMaps without a RoleBinding"),
        (e: unknown) => e,
      );
      assert.ok(denied instanceof KubeApiError);
      assert.equal(denied.status, 403);
      assert.match(denied.message, /system:serviceaccount:default:reader/);

      await applyObjects(cp.kube, [
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "Role",
          metadata: { name: "configmap-reader", namespace: "default" },
          rules: [{
            apiGroups: [""],
            resources: ["configmaps"],
            verbs: ["list"],
          }],
        },
        {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: "reader", namespace: "default" },
          roleRef: {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "Role",
            name: "configmap-reader",
          },
          subjects: [{
            kind: "ServiceAccount",
            name: "reader",
            namespace: "default",
          }],
        },
      ]);
      // the apiserver's RBAC cache sees the binding a moment later
      const allowed = await eventually(
        "RoleBinding takes effect",
        () => client.request<{ items: unknown[] }>("GET", path),
      );
      assert.ok(Array.isArray(allowed.items));
      // still limited to what the Role grants
      const other = await client.request(
        "GET",
        "/api/v1/namespaces/default/secrets",
      ).then(
        () => assert.fail("listed Secrets"),
        (e: unknown) => e,
      );
      assert.equal((other as KubeApiError).status, 403);

      const kubeconfig = await cp.writeKubeconfig("reader", token, "default");
      const viaKubectl = await cp.kubectl([
        "auth",
        "can-i",
        "list",
        "configmaps",
      ], { kubeconfig });
      assert.equal(viaKubectl.stdout.trim(), "yes");
      const cannot = await cp.kubectl(["auth", "can-i", "create", "pods"], {
        kubeconfig,
      });
      assert.equal(cannot.stdout.trim(), "no");
    },
  );
  await t.step(
    "KubeHttp reaches it through an HTTPS proxy's CONNECT tunnel, and says so when the proxy refuses",
    async () => {
      const access = await loadKubeAccess(cp.kubeconfigPath);
      const seen: string[] = [];
      let refuse = false;
      const proxy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const proxied = (async () => {
        for await (const client of proxy) {
          (async () => {
            const buffer = new Uint8Array(4096);
            const n = (await client.read(buffer)) ?? 0;
            const head = new TextDecoder().decode(buffer.subarray(0, n));
            seen.push(head.split("\r\n")[0]!);
            const [host, port] = head.split(" ")[1]!.split(":");
            if (refuse) {
              await client.write(
                new TextEncoder().encode(
                  "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
                ),
              );
              return client.close();
            }
            const upstream = await Deno.connect({
              hostname: host!,
              port: Number(port),
            });
            await client.write(
              new TextEncoder().encode(
                "HTTP/1.1 200 Connection established\r\n\r\n",
              ),
            );
            await Promise.allSettled([
              client.readable.pipeTo(upstream.writable),
              upstream.readable.pipeTo(client.writable),
            ]);
          })().catch(() => {});
        }
      })();
      const url = `http://127.0.0.1:${(proxy.addr as Deno.NetAddr).port}`;
      const server = new URL(cp.server);
      try {
        using kube = new KubeHttp({ ...access, proxy: url });
        const version = await kube.request<{ gitVersion: string }>(
          "GET",
          "/version",
        );
        assert.equal(version.gitVersion, KUBERNETES_VERSION);
        assert.deepEqual(seen, [`CONNECT ${server.host} HTTP/1.1`]);
        refuse = true;
        using refused = new KubeHttp({ ...access, proxy: url });
        await assert.rejects(
          refused.request("GET", "/version"),
          (error) =>
            error instanceof KubeApiError && error.status === 0 &&
            /refused a tunnel .* 407 Proxy Authentication Required/.test(
              error.message,
            ),
        );
      } finally {
        proxy.close();
        await proxied.catch(() => {});
      }
    },
  );
});
