/**
 * `--warm-up`: runs what a cold start runs — configuration loading,
 * telemetry, the handler answering a readiness probe, a malformed event and
 * a resync that cannot reach any API server — without a server, network
 * or output, so that V8 compiles all of it once. The image build runs it:
 * Deno's code cache then ships in the image and a function scaled from zero
 * does not compile again (see knative/Dockerfile).
 *
 * @module
 */

import { CloudEvent, HTTP } from "cloudevents";
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
  await handle(new Request("http://localhost/readyz"));
  await handle(
    new Request("http://localhost/", { method: "POST", body: "{}" }),
  );
  const ping = HTTP.binary(
    new CloudEvent({
      type: "dev.knative.sources.ping",
      source: "/warm-up",
      data: { reason: "warm-up" },
    }),
  );
  await handle(
    new Request("http://localhost/", {
      method: "POST",
      headers: ping.headers as Record<string, string>,
      body: ping.body as string,
    }),
  );
  await telemetry.shutdown();
  kube.close();
}
