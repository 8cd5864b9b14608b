/**
 * The entry Knative runs: listens on `$PORT` (default 8080) from the start
 * of the process, holding what arrives (`listen_first.ts`), starts
 * telemetry, loads Kubernetes access (KUBECONFIG / current context, or
 * in-cluster), then answers with the handler, the held requests first. The
 * readiness endpoints answer as soon as it is ready, before any Kubernetes
 * call. On SIGTERM (Knative scaling down) or SIGINT it stops
 * accepting, lets in-flight requests finish, flushes spans and exits 0.
 *
 * `--warm-up` loads and runs the module code once and exits, no server: the
 * image build runs it so that V8's code cache ships in the image and a cold
 * start does not compile again.
 *
 * Environment: `PORT`, `KUBECONFIG`, `HTTPS_PROXY`/`NO_PROXY` (the way to
 * an https apiserver, as `fetch` reads them), `WATCH_NAMESPACE` (resync only this
 * namespace; default all), `LOG_LEVEL`, `SENDER_AUTH` (`oidc`, as
 * `knative/` sets it, or `insecure-off`; unset: off, with a warning at
 * start), `SENDER_AUDIENCE`, `SENDER_SERVICE_ACCOUNTS`
 * (`namespace/name,…`), `RESYNC_BUDGET_SECONDS` (a resync starts no pass
 * after this; default 240, below the Service's `timeoutSeconds` 300), and the OpenTelemetry variables
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TRACES_HEADERS`,
 * `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`,
 * `OTEL_TRACES_SAMPLER_ARG`, `OTEL_SDK_DISABLED`, `OTEL_FLUSH_TIMEOUT_MS`).
 *
 * @module
 */

// first: it starts the TLS library's set-up on another thread while the
// rest of the module code runs
import "./crypto_init.ts";
// then the port opens, holding what arrives until the function is ready
import { early, PORT } from "./listen_first.ts";
import {
  AUTH_OFF,
  type SenderAuthConfig,
  senderAuthConfig,
  SenderVerifier,
} from "../lib/auth/sender_auth.ts";
import {
  permissionTable,
  serviceAccountIssuer,
  serviceAccountKeys,
} from "../lib/kube/api.ts";
import { KubeHttp } from "../lib/kube/http.ts";
import { PermissionSet } from "../lib/kube/permissions.ts";
import { loadKubeAccess } from "../lib/kube/config.ts";
import { proxyFor } from "../lib/kube/proxy.ts";
import { log } from "../lib/telemetry/log.ts";
import { startTelemetry, type Telemetry } from "../lib/telemetry/telemetry.ts";
import { createHandler } from "./handler.ts";
import { heapGovernor, lazyV8Collector } from "./heap_governor.ts";

/** Connections opened at start: as many as one pass sends requests at once. */
const WARM_CONNECTIONS = 8;

/** V8 heap past which a request is followed by a full collection (see heap_governor.ts). */
const HEAP_BUDGET_BYTES = 24 * 2 ** 20;

function fail(message: string, error: unknown): never {
  log("error", message, {
    error: error instanceof Error ? error.message : String(error),
  });
  Deno.exit(1);
}

// no Deno.exit after a warm-up: the code cache is written as the process ends
if (import.meta.main && Deno.args.includes("--warm-up")) {
  // loaded only for the image build, not at every start
  await (await import("./warm_up.ts")).warmUp();
} else if (import.meta.main) {
  if (!early || early instanceof Error) {
    fail(`cannot listen on port ${PORT}`, early);
  }
  // the port opened at start (narrowed, for the closures below)
  const port = early;
  const { server } = port;
  // what a stop closes after the server, once made
  const closing: (() => Promise<void> | void)[] = [];
  let stopping = false;
  const stop = async (signal: Deno.Signal) => {
    if (stopping) return;
    stopping = true;
    log("info", "stopping: finishing in-flight requests", { signal });
    // a stop before the function was ready: what was held is answered 503
    // (retried by its sender), not cut
    port.ready(() =>
      Promise.resolve(
        Response.json({ error: "the function is stopping", retry: true }, {
          status: 503,
        }),
      )
    );
    await server.shutdown();
    for (const close of closing) await close();
    log("info", "stopped", { signal });
    Deno.exit(0);
  };
  // from the start: the port already holds requests
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(signal, () => void stop(signal));
  }
  let access;
  try {
    access = await loadKubeAccess();
  } catch (error) {
    fail("cannot load Kubernetes configuration", error);
  }
  const proxy = proxyFor(access.server, (name) => Deno.env.get(name));
  // a call that the permission table (and so the RBAC) lacks fails here
  const kube = new KubeHttp({
    ...access,
    ...(proxy ? { proxy } : {}),
    permissions: new PermissionSet(permissionTable()),
  });
  // TLS handshakes with the apiserver now, while the rest gets ready, not
  // on the first event's path
  const warming = kube.warm(WARM_CONNECTIONS);
  let telemetry: Telemetry;
  try {
    telemetry = startTelemetry();
  } catch (error) {
    fail("cannot configure telemetry", error);
  }
  let auth: SenderAuthConfig;
  try {
    auth = senderAuthConfig((name) => Deno.env.get(name));
  } catch (error) {
    fail("cannot configure sender authentication", error);
  }
  const senders = auth.mode === "oidc"
    ? new SenderVerifier(auth, {
      issuer: () => serviceAccountIssuer(kube),
      keys: () => serviceAccountKeys(kube),
    })
    : undefined;
  // the issuer's keys too, before the first token arrives, on the warmed
  // connections (not two more handshakes of their own)
  if (senders) void warming.then(() => senders.prepare());
  if (!senders) {
    log(
      "warn",
      `${
        Deno.env.get("SENDER_AUTH") === undefined
          ? "SENDER_AUTH is not set"
          : `SENDER_AUTH=${AUTH_OFF}`
      }: events are NOT authenticated — any pod that can reach this Service can make the function reconcile; set SENDER_AUTH=oidc (as knative/ does) with Knative's authentication-oidc feature`,
    );
  }
  const budget = Deno.env.get("RESYNC_BUDGET_SECONDS");
  const budgetSeconds = budget === undefined ? undefined : Number(budget);
  if (budgetSeconds !== undefined && !(budgetSeconds > 0)) {
    fail(
      "cannot configure the resync",
      `RESYNC_BUDGET_SECONDS=${budget} is not a positive number of seconds`,
    );
  }
  const namespace = Deno.env.get("WATCH_NAMESPACE") || undefined;
  const handler = createHandler({
    kube,
    namespace,
    telemetry,
    ...(senders ? { senders } : {}),
    resyncBudgetMs: budgetSeconds === undefined
      ? undefined
      : budgetSeconds * 1000,
  });
  const govern = heapGovernor(HEAP_BUDGET_BYTES, {
    heapTotal: () => Deno.memoryUsage().heapTotal,
    collect: lazyV8Collector(),
    now: () => performance.now(),
  });
  closing.push(() => telemetry.shutdown(), () => kube.close());
  // requests held since the start are answered from here on
  port.ready(async (request) => {
    const response = await handler(request);
    // after the answer is on its way
    setTimeout(govern, 0);
    return response;
  });
  log("info", "listening", {
    port: server.addr.port,
    apiServer: access.server,
    // the host only: a proxy URL may carry credentials
    ...(proxy ? { proxy: new URL(proxy).host } : {}),
    config: access.source,
    resyncNamespace: namespace ?? "all",
    traces: telemetry.config.tracesUrl ??
      (telemetry.config.enabled ? "not exported" : "disabled"),
    senderAuth: auth.mode,
    ...(senders ? { audience: auth.audience, senders: auth.senders } : {}),
  });
  await server.finished;
}
