/**
 * The real Knative ApiServerSource receive adapter
 * (`knative.dev/eventing/cmd/apiserver_receive_adapter`), run as a process
 * against the test bed's apiserver with a given source configuration and
 * sink URL.
 *
 * The adapter drops the objects of its initial list and only sends events
 * for changes seen by its watch, so {@linkcode startAdapter} returns once the
 * apiserver itself reports the adapter's watches as open
 * (`apiserver_longrunning_requests{verb="WATCH"}`), not when the process
 * merely runs.
 *
 * It binds `:8080` for health probes (not movable; a bind failure is
 * ignored by the adapter) and `PROFILING_PORT` for pprof, which is moved to
 * a free port here. Do not put a function under test on 8080.
 *
 * @module
 */

import type { ControlPlane } from "./control_plane.ts";
import { delay } from "./wait.ts";
import { freePort, ManagedProcess } from "./process.ts";

/** A watched resource, in the adapter's own JSON shape (capitalised GVR keys). */
export interface SourceResource {
  gvr: { Group: string; Version: string; Resource: string };
  selector?: string;
}

/** The adapter's `K_SOURCE_CONFIG`. */
export interface SourceConfig {
  namespaces: string[];
  allNamespaces: boolean;
  resources: SourceResource[];
  owner?: { apiVersion: string; kind: string };
  /** Only "Reference" selects Reference mode; anything else is Resource mode. */
  mode: "Resource" | "Reference";
}

/** Options of {@linkcode startAdapter}. */
export interface AdapterOptions {
  /** The ApiServerSource's name (`NAME`). */
  name: string;
  /** The source's namespace (`NAMESPACE`, sent as `Kn-Namespace`; also `SYSTEM_NAMESPACE`). */
  namespace: string;
  sourceConfig: SourceConfig;
  /** Where events go (`K_SINK`). */
  sink: string;
  /** Kubeconfig of the identity it watches as (default: admin). */
  kubeconfig?: string;
  /** `K_SINK_TIMEOUT` in seconds. */
  sinkTimeoutSeconds?: number;
  /** How long to wait for its watches (default 30 s). */
  watchTimeoutMs?: number;
}

/** A running adapter. */
export class ApiServerSourceAdapter {
  /** The adapter process. */
  readonly process: ManagedProcess;
  readonly #untie: () => void;

  /** @internal use {@linkcode startAdapter}. */
  constructor(process: ManagedProcess, untie: () => void) {
    this.process = process;
    this.#untie = untie;
  }

  /** Stops the adapter. Idempotent. */
  async stop(): Promise<void> {
    await this.process.stop();
    this.#untie();
  }

  /** Same as {@linkcode ApiServerSourceAdapter.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Counts the open WATCH requests on `group/resource` in the apiserver's
 * Prometheus text (`apiserver_longrunning_requests`).
 */
export function countWatches(
  metrics: string,
  group: string,
  resource: string,
): number {
  let total = 0;
  for (const line of metrics.split("\n")) {
    if (!line.startsWith("apiserver_longrunning_requests{")) continue;
    const close = line.lastIndexOf("}");
    const labels = Object.fromEntries(
      [...line.slice(line.indexOf("{") + 1, close).matchAll(/(\w+)="([^"]*)"/g)]
        .map((m) => [m[1], m[2]]),
    );
    if (
      labels.verb === "WATCH" && labels.group === group &&
      labels.resource === resource && labels.subresource === ""
    ) {
      total += Number(line.slice(close + 1).trim()) || 0;
    }
  }
  return total;
}

async function watchCounts(
  cp: ControlPlane,
  config: SourceConfig,
): Promise<number[]> {
  const metrics = await cp.kube.request<string>("GET", "/metrics");
  return config.resources.map((r) =>
    countWatches(String(metrics), r.gvr.Group, r.gvr.Resource)
  );
}

/**
 * Starts the adapter and waits until the apiserver serves one watch per
 * watched resource and namespace. Throws with the adapter's last log lines
 * if it exits or its watches do not open in time.
 */
export async function startAdapter(
  cp: ControlPlane,
  options: AdapterOptions,
): Promise<ApiServerSourceAdapter> {
  const config = options.sourceConfig;
  const before = await watchCounts(cp, config);
  const env: Record<string, string> = {
    NAME: options.name,
    NAMESPACE: options.namespace,
    SYSTEM_NAMESPACE: options.namespace,
    K_SOURCE_CONFIG: JSON.stringify(config),
    K_SINK: options.sink,
    KUBECONFIG: options.kubeconfig ?? cp.kubeconfigPath,
    PROFILING_PORT: String(freePort()),
    HOME: cp.dir,
  };
  if (options.sinkTimeoutSeconds !== undefined) {
    env.K_SINK_TIMEOUT = String(options.sinkTimeoutSeconds);
  }
  const process = new ManagedProcess({
    name: `adapter ${options.name}`,
    command: cp.binaries.adapter,
    args: [],
    env,
    logPath: `${cp.dir}/logs/adapter-${options.name}-${Date.now()}.log`,
  });
  const adapter = new ApiServerSourceAdapter(
    process,
    cp.own(() => process.stop()),
  );
  try {
    const perResource = config.allNamespaces ? 1 : config.namespaces.length;
    const timeoutMs = options.watchTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const now = await watchCounts(cp, config);
      if (now.every((count, i) => count >= before[i]! + perResource)) break;
      if (process.exitStatus) {
        throw new Error(
          `adapter ${options.name} exited with code ${process.exitStatus.code}; last log lines:\n` +
            await process.tail(),
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `adapter ${options.name}: watches not open within ${timeoutMs} ms; last log lines:\n` +
            await process.tail(),
        );
      }
      await delay(50);
    }
    // The watch request is counted a moment before the apiserver fixes the
    // revision it streams from; let that moment pass.
    await delay(100);
    return adapter;
  } catch (error) {
    await adapter.stop();
    throw error;
  }
}
