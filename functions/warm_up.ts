/**
 * `--warm-up`: runs what a cold start and its first events run —
 * configuration loading, telemetry, the handler answering a readiness
 * probe, a malformed event, a cluster's event and a resync that cannot
 * reach any API server, a sender's token checked, and the planner over a
 * cluster being created and then unchanged — without a server, network or
 * output, so that V8 compiles all of it once. The image build runs it:
 * Deno's code cache then ships in the image and a function scaled from zero
 * does not compile again (see knative/Dockerfile).
 *
 * @module
 */

import * as jose from "jose";
import { SenderVerifier } from "../lib/auth/sender_auth.ts";
import { childKey, type KubeObject } from "../lib/core/objects.ts";
import { followUpReads, podsUsed } from "../lib/core/observation.ts";
import { plan } from "../lib/core/plan.ts";
import type { MySQLCluster } from "../lib/core/mysql_cluster.ts";
import { KubeHttp } from "../lib/kube/http.ts";
import { loadKubeAccess } from "../lib/kube/config.ts";
import { setLogLevel } from "../lib/telemetry/log.ts";
import { startTelemetry } from "../lib/telemetry/telemetry.ts";
import { createHandler } from "./handler.ts";

const NOWHERE = "https://127.0.0.1:1";

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: warm-up, cluster: {server: "${NOWHERE}"}}]
users: [{name: warm-up, user: {token: warm-up}}]
contexts: [{name: warm-up, context: {cluster: warm-up, user: warm-up}}]
current-context: warm-up
`;

const CLUSTER: MySQLCluster = {
  apiVersion: "database.example.com/v1",
  kind: "MySQLCluster",
  metadata: {
    name: "warm-up",
    namespace: "warm-up",
    uid: "00000000-0000-4000-8000-000000000000",
    generation: 1,
    resourceVersion: "1",
  },
  spec: {
    version: "8.4",
    replicas: 3,
    storageSize: "10Gi",
    resources: { cpu: "500m", memory: "1Gi" },
  },
};

/** The planner over a cluster being created, then over it unchanged. */
function planTwice(): void {
  const input = {
    now: "2026-01-01T00:00:00Z",
    passwords: { root: "r", replication: "l", probe: "p" },
    traceId: "0af7651916cd43dd8448eb211c80319c",
  };
  podsUsed(CLUSTER);
  followUpReads(CLUSTER, new Map());
  const created = plan({
    ...input,
    observed: {
      cluster: CLUSTER,
      children: new Map(),
      pods: [],
      credentials: { exists: false },
    },
  });
  const children = new Map<string, KubeObject>();
  for (const write of created.waves.flat()) {
    if (write.op === "apply" && !write.subresource) {
      const object = { ...write.object };
      object.metadata = { ...object.metadata, resourceVersion: "2" };
      children.set(childKey(object.kind!, object.metadata.name!), object);
    }
  }
  plan({ ...input, observed: { cluster: CLUSTER, children, pods: [] } });
}

/** A sender's token verified, as the first authenticated event does. */
async function verifyOnce(): Promise<void> {
  const { privateKey, publicKey } = await jose.generateKeyPair("ES256", {
    extractable: true,
  });
  const jwk = { ...await jose.exportJWK(publicKey), kid: "w", alg: "ES256" };
  const subject = "system:serviceaccount:warm-up:source";
  const token = await new jose.SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: "w" })
    .setSubject(subject)
    .setAudience("warm-up")
    .setIssuer("https://warm-up")
    .setExpirationTime("1h")
    .sign(privateKey);
  const verifier = new SenderVerifier(
    { mode: "oidc", audience: "warm-up", senders: [subject] },
    {
      issuer: () => Promise.resolve("https://warm-up"),
      keys: () => Promise.resolve({ keys: [jwk] }),
    },
  );
  await verifier.verify(`Bearer ${token}`);
}

/** A CloudEvent in binary mode, as the sources send it. */
function event(type: string, data: unknown): Request {
  return new Request("http://localhost/", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": crypto.randomUUID(),
      "ce-source": NOWHERE,
      "ce-type": type,
    },
    body: JSON.stringify(data),
  });
}

/** Runs the cold-start code paths once; writes nothing and sends nothing. */
export async function warmUp(): Promise<void> {
  setLogLevel("silent");
  const telemetry = startTelemetry({
    env: (name) =>
      name === "OTEL_EXPORTER_OTLP_ENDPOINT"
        ? "http://127.0.0.1:1"
        : name === "OTEL_FLUSH_TIMEOUT_MS"
        ? "50"
        : undefined,
  });
  const kube = new KubeHttp(await loadKubeAccess({ yaml: KUBECONFIG }));
  const handle = createHandler({ kube, telemetry, resyncBudgetMs: 1 });
  planTwice();
  await verifyOnce();
  await handle(new Request("http://localhost/readyz"));
  await handle(
    new Request("http://localhost/", { method: "POST", body: "{}" }),
  );
  await handle(event("dev.knative.apiserver.resource.add", CLUSTER));
  await handle(event("dev.knative.sources.ping", { reason: "warm-up" }));
  await telemetry.shutdown();
  kube.close();
}
