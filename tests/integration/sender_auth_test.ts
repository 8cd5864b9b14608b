/**
 * Sender authentication against real components: the function runs as a
 * process with its own ServiceAccount and `SENDER_AUTH=oidc`; tokens are
 * real ServiceAccount tokens minted by the apiserver (TokenRequest) and
 * verified against its OIDC discovery and JWKS; the real ApiServerSource
 * adapter sends its own.
 */

import assert from "node:assert/strict";
import { parseManifests } from "../harness/apply.ts";
import { applyObjects } from "../harness/apply.ts";
import { startAdapter } from "../harness/adapter.ts";
import { clusterUpdateEvent, postEvent } from "../harness/events.ts";
import { startFunction } from "../harness/function_process.ts";
import { oidcObjects } from "../harness/knative_oidc.ts";
import { startOtlpReceiver } from "../harness/otlp_receiver.ts";
import { clusterManifest, startOperatorBed } from "../harness/operator_bed.ts";
import { REPO_ROOT } from "../harness/paths.ts";
import { serviceAccountToken } from "../harness/service_accounts.ts";
import { eventually } from "../harness/wait.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const NS = "shop";
const OPERATOR_NS = "mysql-operator";
const AUDIENCE = "mysql-operator-fn";
const SENDER = "mysql-clusters-oidc-sources.knative.dev-apiserversource";
const CLIENT = 3;

Deno.test("sender authentication: only the sources can make the function act", async (t) => {
  await using cp = await startOperatorBed(NS);
  await applyObjects(cp.kube, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: OPERATOR_NS } },
  ]);
  await applyObjects(
    cp.kube,
    parseManifests(
      await Deno.readTextFile(`${REPO_ROOT}/knative/base/rbac.yaml`),
      "rbac.yaml",
    ).map((o) =>
      o.kind === "ServiceAccount"
        ? { ...o, metadata: { ...o.metadata, namespace: OPERATOR_NS } }
        : o
    ),
  );
  const receiver = startOtlpReceiver();
  await using fn = await startFunction(cp, {
    name: "authenticated",
    kubeconfig: await cp.writeKubeconfig(
      "function",
      await serviceAccountToken(cp.kube, OPERATOR_NS, "mysql-operator-fn"),
    ),
    env: {
      SENDER_AUTH: "oidc",
      SENDER_AUDIENCE: AUDIENCE,
      SENDER_SERVICE_ACCOUNTS: `${OPERATOR_NS}/${SENDER}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    },
  });
  const token = (namespace: string, name: string, audiences = [AUDIENCE]) =>
    serviceAccountToken(cp.kube, namespace, name, 3600, audiences);
  await applyObjects(cp.kube, [clusterManifest(NS, "db")]);
  const send = async (bearer?: string) => {
    const response = await postEvent(
      fn.url,
      clusterUpdateEvent(cp.server, NS, "db"),
      "binary",
      bearer,
    );
    return {
      status: response.status,
      body: await response.json() as Any,
      authenticate: response.headers.get("www-authenticate"),
    };
  };
  const clusterVersion = async () =>
    (await cp.kube.request<Any>(
      "GET",
      `/apis/database.example.com/v1/namespaces/${NS}/mysqlclusters/db`,
    )).metadata.resourceVersion;

  await t.step(
    "no token, a foreign audience or a forged token: 401, nothing read or written",
    async () => {
      const before = await clusterVersion();
      const stranger = await token(OPERATOR_NS, SENDER, ["https://other"]);
      const cases: [string | undefined, RegExp][] = [
        [undefined, /no bearer token/],
        ["not.a.token", /not a valid ServiceAccount token/],
        [stranger, /not issued for audience "mysql-operator-fn"/],
        [
          // a valid token's claims with another signature
          (await token(OPERATOR_NS, SENDER)).replace(/\.[^.]+$/, ".AAAA"),
          /not a valid|signature/,
        ],
      ];
      for (const [bearer, reason] of cases) {
        const answer = await send(bearer);
        assert.equal(answer.status, 401, JSON.stringify(answer.body));
        assert.match(answer.body.error, reason);
        assert.match(answer.authenticate ?? "", /^Bearer /);
        // the refusal is traced, and the trace has no API call in it
        const spans = receiver.trace(answer.body.traceId);
        const server = spans.find((s) => s.kind === 2);
        assert.equal(server?.name, "reject");
        assert.equal(server?.attributes["error.type"], "unauthenticated");
        assert.equal(spans.filter((s) => s.kind === CLIENT).length, 0);
      }
      assert.equal(await clusterVersion(), before);
      assert.equal(
        (await cp.kube.request<Any>(
          "GET",
          `/apis/apps/v1/namespaces/${NS}/statefulsets`,
        )).items.length,
        0,
        "nothing was created",
      );
    },
  );

  await t.step(
    "a valid token of another ServiceAccount: 403, nothing read or written",
    async () => {
      const before = await clusterVersion();
      const answer = await send(await token(NS, "app"));
      assert.equal(answer.status, 403, JSON.stringify(answer.body));
      assert.match(
        answer.body.error,
        /sender system:serviceaccount:shop:app is not one of the sources/,
      );
      const spans = receiver.trace(answer.body.traceId);
      // the refusal is traced (so an empty trace cannot pass), with no API call
      assert.equal(
        spans.find((s) => s.kind === 2)?.attributes["error.type"],
        "forbidden",
      );
      assert.equal(spans.filter((s) => s.kind === CLIENT).length, 0);
      assert.equal(await clusterVersion(), before);
    },
  );

  await t.step(
    "a configured source's token: the event is handled",
    async () => {
      const answer = await send(await token(OPERATOR_NS, SENDER));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.outcome, "reconciled");
      const server = receiver.trace(answer.body.traceId).find((s) =>
        s.kind === 2
      );
      assert.equal(
        server?.attributes["enduser.id"],
        `system:serviceaccount:${OPERATOR_NS}:${SENDER}`,
      );
    },
  );

  await t.step(
    "the real adapter's tokens are accepted; with another audience they are refused",
    async () => {
      const sources = await serviceAccountToken(
        cp.kube,
        OPERATOR_NS,
        "mysql-operator-sources",
      );
      const kubeconfig = await cp.writeKubeconfig("sources", sources);
      const adapter = async (name: string, audience: string) => {
        await applyObjects(
          cp.kube,
          oidcObjects({
            name: name.replace(/-oidc-.*$/, ""),
            namespace: OPERATOR_NS,
            serviceAccountName: "mysql-operator-sources",
            oidcServiceAccount: name,
          }),
        );
        return await startAdapter(cp, {
          name: `adapter-${audience.length}`,
          namespace: OPERATOR_NS,
          sourceConfig: {
            namespaces: [NS],
            allNamespaces: false,
            resources: [{
              gvr: {
                Group: "database.example.com",
                Version: "v1",
                Resource: "mysqlclusters",
              },
            }],
            mode: "Resource",
          },
          sink: fn.url,
          kubeconfig,
          oidc: { audience, serviceAccount: name },
        });
      };
      const good = await adapter(SENDER, AUDIENCE);
      await applyObjects(cp.kube, [clusterManifest(NS, "from-adapter")]);
      await eventually("the adapter's event was handled", async () => {
        const handled = (await fn.logLines()).find((l) =>
          l.message === "event handled" && l.key === `${NS}/from-adapter`
        );
        assert.ok(handled);
      }, 20_000);
      await good.stop();
      // only refusals after this point: earlier steps were refused too
      const seen = (await fn.logLines()).length;
      const wrong = await adapter(SENDER, "someone-else");
      await applyObjects(cp.kube, [clusterManifest(NS, "refused")]);
      await eventually("the adapter's event was refused", async () => {
        const refused = (await fn.logLines()).slice(seen).filter((l) =>
          l.message === "sender refused" && l.status === 401 &&
          /not issued for audience/.test(String(l.error))
        );
        assert.ok(refused.length > 0);
      }, 20_000);
      await wrong.stop();
      const refused = await cp.kube.request<Any>(
        "GET",
        `/apis/database.example.com/v1/namespaces/${NS}/mysqlclusters/refused`,
      );
      assert.equal(refused.status, undefined, "never reconciled");
    },
  );
});
