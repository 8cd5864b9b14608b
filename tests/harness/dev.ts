/**
 * `deno task dev [--kubeconfig PATH] [--port N]`: the whole loop on one
 * machine.
 *
 * - With `--kubeconfig` (or `KUBECONFIG`) naming a reachable cluster: runs
 *   the function locally against it, restarting on source changes, with a
 *   banner saying which cluster and namespace.
 * - Otherwise: starts the local control plane (building it first, with
 *   progress, when needed), applies the CRD and the RBAC from `knative/`,
 *   runs the function with its ServiceAccount's token and file watching,
 *   runs the real ApiServerSource adapters configured from `knative/`'s
 *   ApiServerSources with the function as sink, and sends the resync events
 *   the PingSource would.
 *
 * Each request prints as a span tree (no OTLP endpoint) or goes to
 * `OTEL_EXPORTER_OTLP_ENDPOINT`. Ctrl-C stops everything and removes the
 * temporary directory; the next start sweeps anything a killed run left.
 *
 * @module
 */

import { loadKubeAccess } from "../../lib/kube/config.ts";
import { KubeHttp } from "../../lib/kube/http.ts";
import { startAdapter } from "./adapter.ts";
import { applyObjects, discoveryResolver, parseManifests } from "./apply.ts";
import { ensureBinaries } from "./build.ts";
import { registerCleanup } from "./cleanup.ts";
import { type ControlPlane, startControlPlane } from "./control_plane.ts";
import { installCrds } from "./crds.ts";
import { DEV_FUNCTION_PORT, devSenderTokenPath } from "./dev_config.ts";
import { postEvent, resyncEvent } from "./events.ts";
import { type FunctionProcess, startFunction } from "./function_process.ts";
import { derivePing, deriveSource, serviceEnv } from "./knative_manifests.ts";
import { oidcObjects } from "./knative_oidc.ts";
import { REPO_ROOT } from "./paths.ts";
import { serviceAccountToken } from "./service_accounts.ts";

const USAGE = "usage: deno task dev [--kubeconfig PATH] [--port N]";

/** The dev loop's command line. */
export interface DevArgs {
  kubeconfig?: string;
  port: number;
}

/** Parses `--kubeconfig PATH` and `--port N` (default `$PORT`, else 8081). */
export function parseDevArgs(
  args: string[],
  env: (name: string) => string | undefined = () => undefined,
): DevArgs {
  const result: DevArgs = {
    port: Number(env("PORT") ?? DEV_FUNCTION_PORT),
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split("=", 2) as [string, string?];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === "--kubeconfig") result.kubeconfig = value();
    else if (flag === "--port") result.port = Number(value());
    else throw new Error(`unknown argument ${args[i]}\n${USAGE}`);
  }
  if (
    !Number.isInteger(result.port) || result.port <= 0 || result.port > 65535
  ) {
    throw new Error(`port "${result.port}" is not a TCP port\n${USAGE}`);
  }
  if (result.port === 8080) {
    throw new Error(
      "port 8080 is taken by the ApiServerSource adapter's health probes: choose another",
    );
  }
  return result;
}

function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "0.0.0.0", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** Telemetry for the function in dev: span trees unless the user exports. */
function traceEnv(): { env: Record<string, string>; where: string } {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(Deno.env.toObject())) {
    if (name.startsWith("OTEL_")) env[name] = value;
  }
  if (
    env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
  ) {
    return {
      env,
      where: `exported to ${
        env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
          env.OTEL_EXPORTER_OTLP_ENDPOINT
      }`,
    };
  }
  env.OTEL_TRACES_EXPORTER ??= "console";
  return {
    env,
    where:
      "printed below as a span tree per request (set OTEL_EXPORTER_OTLP_ENDPOINT to export)",
  };
}

async function reachable(
  kubeconfig: string,
): Promise<
  { ok: true; server: string; source: string; namespace: string } | {
    ok: false;
    why: string;
  }
> {
  try {
    const access = await loadKubeAccess(kubeconfig);
    using kube = new KubeHttp({ ...access, timeoutMs: 3_000 });
    await kube.request("GET", "/version");
    return {
      ok: true,
      server: access.server,
      source: access.source,
      namespace: access.namespace,
    };
  } catch (error) {
    return { ok: false, why: (error as Error).message };
  }
}

async function waitForever(): Promise<never> {
  // Ctrl-C (SIGINT), SIGTERM and SIGHUP run every registered cleanup and exit
  return await new Promise<never>(() => {});
}

async function remote(
  args: DevArgs,
  kubeconfig: string,
  cluster: { server: string; source: string; namespace: string },
): Promise<never> {
  const dir = await Deno.makeTempDir({ prefix: "mysqlop-dev-" });
  await Deno.mkdir(`${dir}/logs`);
  registerCleanup(() => Deno.remove(dir, { recursive: true }));
  const traces = traceEnv();
  const fn = await startFunction({
    dir,
    kubeconfigPath: kubeconfig,
    own: registerCleanup,
  }, {
    name: "dev",
    port: args.port,
    watch: true,
    echo: true,
    env: { LOG_LEVEL: Deno.env.get("LOG_LEVEL") ?? "info", ...traces.env },
  });
  console.log(`
mysql-operator-fn dev — against YOUR cluster
  cluster:   ${cluster.server}  (${cluster.source})
  namespace: ${cluster.namespace} (resyncs cover every namespace the identity can list)
  function:  ${fn.url}  (restarts when functions/ or lib/ change)
  senders:   not checked (SENDER_AUTH=insecure-off): whoever reaches this port can send events
  events:    the cluster's own sources cannot reach this machine; send them:
               deno task event update knative/samples/mysqlcluster_minimal.yaml${
    args.port === DEV_FUNCTION_PORT ? "" : ` --url ${fn.url}`
  }
               deno task event resync${
    args.port === DEV_FUNCTION_PORT ? "" : ` --url ${fn.url}`
  }
  traces:    ${traces.where}
  Ctrl-C stops the function.
`);
  return await waitForever();
}

async function local(args: DevArgs): Promise<never> {
  const started = performance.now();
  const binaries = await ensureBinaries();
  const cp: ControlPlane = await startControlPlane({ binaries });
  const kubectl = Deno.env.get("PATH")?.split(":").some((dir) => {
      try {
        return Deno.statSync(`${dir}/kubectl`).isFile;
      } catch {
        return false;
      }
    })
    ? "kubectl"
    : binaries.kubectl;
  const rendered = await cp.kubectl(["kustomize", `${REPO_ROOT}/knative`]);
  if (rendered.code !== 0) {
    throw new Error(`kubectl kustomize knative/ failed: ${rendered.stderr}`);
  }
  const manifests = parseManifests(rendered.stdout, "knative/");
  const ofKind = (...kinds: string[]) =>
    manifests.filter((m) => kinds.includes(String(m.kind)));
  // what a cluster needs for the function and its sources; the Knative
  // Service itself is played by the local process
  await installCrds(cp.kube, ofKind("CustomResourceDefinition"));
  await applyObjects(
    cp.kube,
    ofKind(
      "Namespace",
      "ServiceAccount",
      "ClusterRole",
      "ClusterRoleBinding",
      "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding",
    ),
  );
  // who may send events: as the Knative Service says, checked as in a cluster
  const senderEnv = Object.fromEntries(
    Object.entries(serviceEnv(manifests) ?? {}).filter(([name]) =>
      name.startsWith("SENDER_")
    ),
  );
  const identity = async (name: string, serviceAccount: string) =>
    await cp.writeKubeconfig(
      name,
      await serviceAccountToken(
        cp.kube,
        "mysql-operator",
        serviceAccount,
        86_400,
      ),
    );
  const traces = traceEnv();
  const fn: FunctionProcess = await startFunction(cp, {
    name: "dev",
    kubeconfig: await identity("function", "mysql-operator-fn"),
    port: args.port,
    watch: true,
    echo: true,
    env: {
      LOG_LEVEL: Deno.env.get("LOG_LEVEL") ?? "warn",
      ...traces.env,
      ...senderEnv,
    },
  });
  const resolve = discoveryResolver(cp.kube);
  const sourcesKubeconfig = await identity("sources", "mysql-operator-sources");
  const sources = [];
  for (const source of ofKind("ApiServerSource")) {
    const derived = await deriveSource(source, resolve);
    // what Knative's controller does with authentication-oidc on
    await applyObjects(cp.kube, oidcObjects(derived));
    await startAdapter(cp, {
      name: derived.name,
      namespace: derived.namespace,
      sourceConfig: derived.config,
      sink: fn.url,
      kubeconfig: sourcesKubeconfig,
      ...(derived.audience
        ? {
          oidc: {
            audience: derived.audience,
            serviceAccount: derived.oidcServiceAccount,
          },
        }
        : {}),
    });
    sources.push(derived.name);
  }
  const resyncs = [];
  const tokenPath = devSenderTokenPath();
  for (const [index, ping] of ofKind("PingSource").entries()) {
    const derived = derivePing(ping);
    // the resync source's identity: its token for the timer below and for
    // `deno task event`, renewed every hour
    let token = "";
    if (derived.audience) {
      const renew = async () => {
        token = await serviceAccountToken(
          cp.kube,
          derived.namespace,
          derived.oidcServiceAccount,
          7_200,
          [derived.audience!],
        );
        // `deno task event` sends as the first (the resync)
        if (index === 0) {
          await Deno.writeTextFile(tokenPath, token, { mode: 0o600 });
        }
      };
      await renew();
      const renewal = setInterval(() => renew().catch(() => {}), 3_600_000);
      registerCleanup(async () => {
        clearInterval(renewal);
        await Deno.remove(tokenPath).catch(() => {});
      });
    }
    const every = /^(?:\*|\*\/(\d+)) \* \* \* \*$/.exec(derived.schedule);
    if (!every) continue;
    const minutes = Number(every[1] ?? 1);
    const event = () => resyncEvent(derived.source, derived.data);
    const timer = setInterval(() => {
      postEvent(fn.url, event(), "binary", token || undefined).then(
        (r) => r.body?.cancel(),
        () => {},
      );
    }, minutes * 60_000);
    registerCleanup(() => Promise.resolve(clearInterval(timer)));
    resyncs.push(`${derived.name} every ${minutes} min (${derived.schedule})`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`
mysql-operator-fn dev — local control plane ready in ${seconds} s
  kube-apiserver ${cp.server}, as in knative/: CRD, RBAC, the function as
  ServiceAccount mysql-operator-fn, the adapters as mysql-operator-sources.

  export KUBECONFIG=${cp.kubeconfigPath}
  ${kubectl} apply -f knative/samples/mysqlcluster_minimal.yaml
  ${kubectl} get mysql -w

  function:  ${fn.url}  (restarts when functions/ or lib/ change)
  senders:   ${
    senderEnv.SENDER_AUTH === "oidc"
      ? `tokens of the sources' ServiceAccounts for audience ${senderEnv.SENDER_AUDIENCE} (deno task event sends the resync source's)`
      : "not checked (SENDER_AUTH=insecure-off)"
  }
  events:    ApiServerSource adapters ${sources.join(", ")} → function;
             resync ${
    resyncs.join(", ") || "not scheduled"
  }; or: deno task event resync
  traces:    ${traces.where}
  logs:      ${cp.dir}/logs/
  Ctrl-C stops everything.
`);
  return await waitForever();
}

if (import.meta.main) {
  // runs last on Ctrl-C, after everything started has been stopped
  registerCleanup(() =>
    Promise.resolve(
      console.log(
        "\ndev: stopped everything it started; temporary files removed",
      ),
    )
  );
  let args: DevArgs;
  try {
    args = parseDevArgs(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(2);
  }
  if (!portFree(args.port)) {
    console.error(
      `port ${args.port} is in use (another deno task dev?): stop it, or pass --port`,
    );
    Deno.exit(1);
  }
  const explicit = args.kubeconfig;
  const kubeconfig = explicit ?? Deno.env.get("KUBECONFIG");
  if (kubeconfig) {
    const cluster = await reachable(kubeconfig);
    if (cluster.ok) await remote(args, kubeconfig, cluster);
    if (!cluster.ok && explicit) {
      console.error(`cannot reach the cluster of ${explicit}: ${cluster.why}`);
      Deno.exit(1);
    }
    if (!cluster.ok) {
      console.log(
        `KUBECONFIG=${kubeconfig} does not reach a cluster (${cluster.why}); ` +
          "starting a local control plane instead",
      );
    }
  }
  await local(args);
}
