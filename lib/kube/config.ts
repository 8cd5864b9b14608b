/**
 * Where the function finds the Kubernetes API and its credentials, the way
 * kubectl and client-go do: an explicit kubeconfig, else `KUBECONFIG`, else
 * `~/.kube/config`, else the in-cluster ServiceAccount.
 *
 * The cases a function meets are read here directly, with no heavy import
 * on the cold-start path: in cluster, three reads (the token, the CA and
 * `KUBERNETES_SERVICE_HOST`/`_PORT`); a kubeconfig whose user has a token,
 * a token file or a client certificate, parsed with `js-yaml`. Anything
 * else — exec plugins, auth providers, merged `KUBECONFIG` lists — goes to
 * `@kubernetes/client-node`'s loader, imported only then. Rotated tokens
 * (bound ServiceAccount tokens, token files, exec plugins) are read again
 * every minute.
 *
 * @module
 */

import { load } from "js-yaml";
import type { KubeHttpOptions } from "./http.ts";

/** Connection options plus where they came from. */
export interface KubeAccess extends KubeHttpOptions {
  /** The current context's namespace (or the pod's, in cluster). */
  namespace: string;
  /** Human-readable origin, e.g. `kubeconfig /home/me/.kube/config (context kind)`. */
  source: string;
}

/**
 * client-node's configuration module, imported at run time only for what
 * the light loader leaves (its version is the import map's; a test checks).
 */
export const CLIENT_NODE_CONFIG =
  "npm:@kubernetes/client-node@2.0.1/dist/config.js";

/** Where a ServiceAccount's credentials are mounted in a pod. */
export const SERVICE_ACCOUNT_DIR =
  "/var/run/secrets/kubernetes.io/serviceaccount";

const NO_CONFIG =
  "no Kubernetes configuration found: set KUBECONFIG (or create ~/.kube/config), or run in a cluster with a ServiceAccount";

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** A token read from `path` when needed, again at most every minute. */
function tokenFrom(path: string): () => Promise<string> {
  return async () => `Bearer ${(await Deno.readTextFile(path)).trim()}`;
}

function decodeBase64(data: string): string {
  const binary = atob(data.replace(/\s+/g, ""));
  return new TextDecoder().decode(
    Uint8Array.from(binary, (c) => c.charCodeAt(0)),
  );
}

/**
 * The in-cluster configuration, when this runs in a pod with a
 * ServiceAccount (`dir` and `lookup` for tests).
 */
export async function inCluster(
  dir: string = SERVICE_ACCOUNT_DIR,
  lookup: (name: string) => string | undefined = env,
): Promise<KubeAccess | undefined> {
  const host = lookup("KUBERNETES_SERVICE_HOST");
  const port = lookup("KUBERNETES_SERVICE_PORT");
  if (!host || !port) return undefined;
  const [caCert, namespace] = await Promise.all([
    readIfExists(`${dir}/ca.crt`),
    readIfExists(`${dir}/namespace`),
  ]);
  if (!caCert) return undefined;
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    server,
    caCert,
    namespace: namespace?.trim() || "default",
    source: "in-cluster ServiceAccount",
    authorization: tokenFrom(`${dir}/token`),
  };
}

type Named<T> = { name?: string } & T;

/** The subset of a kubeconfig read here; anything else goes to client-node. */
interface Kubeconfig {
  "current-context"?: string;
  contexts?: Named<{ context?: Record<string, string> }>[];
  clusters?: Named<{ cluster?: Record<string, unknown> }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
}

/** User fields read here; any other means client-node's loader. */
const SIMPLE_USER = new Set([
  "token",
  "tokenFile",
  "client-certificate",
  "client-certificate-data",
  "client-key",
  "client-key-data",
]);
/** Cluster fields read here. */
const SIMPLE_CLUSTER = new Set([
  "server",
  "certificate-authority",
  "certificate-authority-data",
]);

/**
 * The access a kubeconfig grants, when it is one this loader reads
 * (`undefined`: let client-node's loader read it). `dir` resolves relative
 * file paths, as kubectl does.
 */
export async function accessFromKubeconfig(
  text: string,
  dir: string,
  source: string,
): Promise<KubeAccess | undefined> {
  const config = (load(text) ?? {}) as Kubeconfig;
  const contextName = config["current-context"];
  const context = config.contexts?.find((c) => c.name === contextName)
    ?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)
    ?.cluster;
  const user = config.users?.find((u) => u.name === context?.user)?.user ??
    {};
  if (!context || !cluster || typeof cluster.server !== "string") {
    return undefined;
  }
  if (
    !Object.keys(user).every((key) => SIMPLE_USER.has(key)) ||
    !Object.keys(cluster).every((key) => SIMPLE_CLUSTER.has(key))
  ) {
    return undefined;
  }
  const path = (value: unknown) =>
    String(value).startsWith("/") ? String(value) : `${dir}/${value}`;
  const file = async (value: unknown) => await Deno.readTextFile(path(value));
  const access: KubeAccess = {
    server: cluster.server,
    namespace: context.namespace ?? "default",
    source: `${source} (context ${contextName})`,
  };
  if (typeof cluster["certificate-authority-data"] === "string") {
    access.caCert = decodeBase64(cluster["certificate-authority-data"]);
  } else if (cluster["certificate-authority"] !== undefined) {
    access.caCert = await file(cluster["certificate-authority"]);
  }
  if (typeof user.token === "string") access.token = user.token;
  else if (user.tokenFile !== undefined) {
    access.authorization = tokenFrom(path(user.tokenFile));
  }
  const cert = typeof user["client-certificate-data"] === "string"
    ? decodeBase64(user["client-certificate-data"])
    : user["client-certificate"] !== undefined
    ? await file(user["client-certificate"])
    : undefined;
  const key = typeof user["client-key-data"] === "string"
    ? decodeBase64(user["client-key-data"])
    : user["client-key"] !== undefined
    ? await file(user["client-key"])
    : undefined;
  if (cert && key) access.clientCert = { cert, key };
  return access;
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
  if (typeof kubeconfig === "object") {
    return await accessFromKubeconfig(
      kubeconfig.yaml,
      ".",
      "kubeconfig given inline",
    ) ??
      await withClientNode(kubeconfig);
  }
  const explicit = kubeconfig ?? env("KUBECONFIG");
  const home = env("HOME");
  // ~/.kube/config is read once: to see whether it exists, and to use it
  const homeText = explicit !== undefined || !home
    ? undefined
    : await readIfExists(`${home}/.kube/config`);
  const path = explicit ??
    (homeText !== undefined ? `${home}/.kube/config` : undefined);
  if (path === undefined) {
    const pod = await inCluster();
    if (pod) return pod;
    throw new Error(NO_CONFIG);
  }
  // a KUBECONFIG list is merged by client-node
  if (!path.includes(":")) {
    const text = homeText ?? await readIfExists(path);
    if (text === undefined) {
      if (kubeconfig) throw new Error(`kubeconfig ${path} does not exist`);
    } else {
      const dir = path.includes("/")
        ? path.slice(0, path.lastIndexOf("/"))
        : ".";
      const access = await accessFromKubeconfig(
        text,
        dir,
        `kubeconfig ${path}`,
      );
      if (access) return access;
    }
  }
  return await withClientNode(
    kubeconfig ?? (explicit && !explicit.includes(":") ? explicit : undefined),
  );
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  if (Array.isArray(value)) return value.map(text).join("\n");
  return String(value);
}

/** client-node's loader, for what {@linkcode accessFromKubeconfig} leaves. */
async function withClientNode(
  kubeconfig?: string | { yaml: string },
): Promise<KubeAccess> {
  // a run-time import: bundled, client-node's node: imports would load at
  // every start (~170 ms and 40 MiB) for what only exec plugins need
  const { KubeConfig } = await import(
    CLIENT_NODE_CONFIG
  ) as typeof import("@kubernetes/client-node/dist/config.js");
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
    source = env("KUBECONFIG")
      ? `kubeconfig ${env("KUBECONFIG")}`
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
    throw new Error(NO_CONFIG);
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
