/**
 * Where the function finds the Kubernetes API and its credentials, loaded
 * by `@kubernetes/client-node` (kubeconfig from `KUBECONFIG` or
 * `~/.kube/config` with its current context, or the in-cluster
 * ServiceAccount): certificates, tokens (re-read for rotated in-cluster
 * tokens and exec plugins) and the default namespace. Requests then go
 * over {@linkcode KubeHttp}'s pooled connection.
 *
 * @module
 */

import type { KubeHttpOptions } from "./http.ts";

/** Connection options plus where they came from. */
export interface KubeAccess extends KubeHttpOptions {
  /** The current context's namespace (or the pod's, in cluster). */
  namespace: string;
  /** Human-readable origin, e.g. `kubeconfig /home/me/.kube/config (context kind)`. */
  source: string;
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (Array.isArray(value)) return value.map(text).join("\n");
  return String(value);
}

/**
 * Loads client-node's configuration module only (a quarter of the package:
 * the bundle starts in ~0.4 s instead of ~1 s without a code cache), once.
 */
export function loadConfigModule(): Promise<
  typeof import("@kubernetes/client-node/dist/config.js")
> {
  return import("@kubernetes/client-node/dist/config.js");
}

/**
 * Loads the configuration the way kubectl and client-go do. Throws with a
 * clear message when there is none or it names no server.
 *
 * @param kubeconfig an explicit kubeconfig path or text (else the default rules).
 */
export async function loadKubeAccess(
  kubeconfig?: string | { yaml: string },
): Promise<KubeAccess> {
  const { KubeConfig } = await loadConfigModule();
  const config = new KubeConfig();
  let source: string;
  if (typeof kubeconfig === "object") {
    config.loadFromString(kubeconfig.yaml);
    source = "kubeconfig given inline";
  } else if (kubeconfig) {
    config.loadFromFile(kubeconfig);
    source = `kubeconfig ${kubeconfig}`;
  } else {
    config.loadFromDefault();
    source = Deno.env.get("KUBECONFIG")
      ? `kubeconfig ${Deno.env.get("KUBECONFIG")}`
      : config.currentContext === "inClusterContext"
      ? "in-cluster ServiceAccount"
      : "kubeconfig ~/.kube/config";
  }
  const cluster = config.getCurrentCluster();
  // client-node's last resort when it finds nothing is http://localhost:8080
  if (
    !cluster?.server ||
    (!kubeconfig && cluster.server === "http://localhost:8080")
  ) {
    throw new Error(
      "no Kubernetes configuration found: set KUBECONFIG (or create ~/.kube/config), " +
        "or run in a cluster with a ServiceAccount",
    );
  }
  const tls: {
    headers: Record<string, string>;
    ca?: unknown;
    cert?: unknown;
    key?: unknown;
  } = { headers: {} };
  // deno-lint-ignore no-explicit-any
  await config.applyToHTTPSOptions(tls as any);
  const context = config.getContextObject(config.currentContext);
  const caCert = text(tls.ca);
  const cert = text(tls.cert);
  const key = text(tls.key);
  const access: KubeAccess = {
    server: cluster.server,
    namespace: context?.namespace ?? "default",
    source: `${source} (context ${config.currentContext})`,
    authorization: async () => {
      const fresh: { headers: Record<string, string> } = { headers: {} };
      // deno-lint-ignore no-explicit-any
      await config.applyToHTTPSOptions(fresh as any);
      return fresh.headers.Authorization ?? fresh.headers.authorization;
    },
  };
  if (caCert) access.caCert = caCert;
  if (cert && key) access.clientCert = { cert, key };
  return access;
}
