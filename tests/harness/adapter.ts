/**
 * The real Knative ApiServerSource receive adapter
 * (`knative.dev/eventing/cmd/apiserver_receive_adapter`), run as a process
 * against the test bed's apiserver with a given source configuration and
 * sink URL.
 *
 * The adapter drops the objects of its initial list and only sends events
 * for changes seen by its watch, so {@linkcode startAdapter} returns once the
 * apiserver's audit log shows each of the adapter's watches started, not
 * when the process merely runs.
 *
 * It binds `:8080` for health probes (not movable; a bind failure is
 * ignored by the adapter) and `PROFILING_PORT` for pprof, which is moved to
 * a free port here. Do not put a function under test on 8080.
 *
 * @module
 */

import type { ControlPlane } from "./control_plane.ts";
import { delay, eventually } from "./wait.ts";
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

/**
 * A Resource-mode source watching one resource in one namespace.
 *
 * @example
 * ```ts
 * resourceSource("default", { Group: "apps", Version: "v1", Resource: "statefulsets" });
 * ```
 */
export function resourceSource(
  namespace: string,
  gvr: SourceResource["gvr"],
): SourceConfig {
  return {
    namespaces: [namespace],
    allNamespaces: false,
    resources: [{ gvr }],
    mode: "Resource",
  };
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
  /**
   * Sender identity: the adapter mints tokens of this ServiceAccount (in
   * `namespace`) for this audience and sends them as `Authorization:
   * Bearer` (`K_OIDC_SERVICE_ACCOUNT`, `K_AUDIENCE`).
   */
  oidc?: { audience: string; serviceAccount: string };
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

/** One watch the adapter must open: a resource in a namespace (or in all). */
export interface ExpectedWatch {
  group: string;
  resource: string;
  /** Undefined for a watch across all namespaces. */
  namespace?: string;
}

/** The watches a source configuration opens: one per resource and namespace. */
export function expectedWatches(config: SourceConfig): ExpectedWatch[] {
  return config.resources.flatMap((r) =>
    config.allNamespaces
      ? [{ group: r.gvr.Group, resource: r.gvr.Resource }]
      : config.namespaces.map((namespace) => ({
        group: r.gvr.Group,
        resource: r.gvr.Resource,
        namespace,
      }))
  );
}

interface AuditEvent {
  stage?: string;
  verb?: string;
  userAgent?: string;
  objectRef?: { resource?: string; apiGroup?: string; namespace?: string };
}

/**
 * The expected watches that do not yet appear, as started by the adapter
 * (`ResponseStarted`, user agent `apiserver_receive_adapter/…`), in these
 * apiserver audit log lines.
 */
export function missingWatches(
  auditLines: string[],
  expected: ExpectedWatch[],
): ExpectedWatch[] {
  const started: AuditEvent[] = [];
  for (const line of auditLines) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as AuditEvent;
    if (
      event.verb === "watch" && event.stage === "ResponseStarted" &&
      event.userAgent?.startsWith(ADAPTER_USER_AGENT)
    ) started.push(event);
  }
  return expected.filter((want) =>
    !started.some(({ objectRef: ref = {} }) =>
      ref.resource === want.resource &&
      (ref.apiGroup ?? "") === want.group &&
      ref.namespace === want.namespace
    )
  );
}

/** How the adapter's client introduces itself to the apiserver. */
export const ADAPTER_USER_AGENT = "apiserver_receive_adapter/";

/**
 * Waits until the apiserver lists every watched resource from its cache.
 * Right after a CRD is created its storage answers 429 "(re)initializing"
 * for a while; a watch opened then delivers nothing until the cache is
 * ready, and the objects created meanwhile arrive as its initial list,
 * which the adapter drops.
 */
async function waitUntilListable(
  cp: ControlPlane,
  config: SourceConfig,
  timeoutMs: number,
): Promise<void> {
  for (const { gvr } of config.resources) {
    const base = gvr.Group
      ? `/apis/${gvr.Group}/${gvr.Version}`
      : `/api/${gvr.Version}`;
    const paths = config.allNamespaces
      ? [`${base}/${gvr.Resource}`]
      : config.namespaces.map((ns) =>
        `${base}/namespaces/${ns}/${gvr.Resource}`
      );
    for (const path of paths) {
      await eventually(
        `${path} lists`,
        () => cp.kube.request("GET", path),
        timeoutMs,
      );
    }
  }
}

async function auditSize(path: string): Promise<number> {
  return await Deno.stat(path).then((info) => info.size, () => 0);
}

async function auditLinesSince(
  path: string,
  offset: number,
): Promise<string[]> {
  const bytes = await Deno.readFile(path).catch(() => new Uint8Array());
  const text = new TextDecoder().decode(bytes.subarray(offset));
  // the last line may still be being written
  return text.split("\n").slice(0, -1);
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
  await waitUntilListable(cp, config, options.watchTimeoutMs ?? 30_000);
  const auditOffset = await auditSize(cp.auditLogPath);
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
  if (options.oidc) {
    env.K_AUDIENCE = options.oidc.audience;
    env.K_OIDC_SERVICE_ACCOUNT = options.oidc.serviceAccount;
  }
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
    const expected = expectedWatches(config);
    const timeoutMs = options.watchTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const lines = await auditLinesSince(cp.auditLogPath, auditOffset);
      const missing = missingWatches(lines, expected);
      if (missing.length === 0) break;
      if (process.exitStatus) {
        throw new Error(
          `adapter ${options.name} exited with code ${process.exitStatus.code}; last log lines:\n` +
            await process.tail(),
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `adapter ${options.name}: watches not open within ${timeoutMs} ms ` +
            `(missing ${JSON.stringify(missing)}); last log lines:\n` +
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
