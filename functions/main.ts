/**
 * The entry Knative runs: loads Kubernetes access (KUBECONFIG / current
 * context, or in-cluster), then serves the handler on `$PORT` (default
 * 8080). The readiness endpoints answer before any Kubernetes call.
 *
 * Environment: `PORT`, `KUBECONFIG`, `WATCH_NAMESPACE` (resync only this
 * namespace; default all).
 *
 * @module
 */

import { KubeHttp } from "../lib/kube_http.ts";
import { loadKubeAccess } from "../lib/kube_config.ts";
import { log } from "../lib/log.ts";
import { createHandler } from "./handler.ts";

if (import.meta.main) {
  let access;
  try {
    access = await loadKubeAccess();
  } catch (error) {
    log("error", "cannot load Kubernetes configuration", {
      error: error instanceof Error ? error.message : String(error),
    });
    Deno.exit(1);
  }
  const kube = new KubeHttp(access);
  const port = Number(Deno.env.get("PORT") ?? "8080");
  const namespace = Deno.env.get("WATCH_NAMESPACE") || undefined;
  const server = Deno.serve({
    port,
    hostname: "0.0.0.0",
    onListen: ({ port }) =>
      log("info", "listening", {
        port,
        apiServer: access.server,
        config: access.source,
        resyncNamespace: namespace ?? "all",
      }),
  }, createHandler({ kube, namespace }));
  await server.finished;
  kube.close();
}
