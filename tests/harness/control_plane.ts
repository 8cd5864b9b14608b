/**
 * A real Kubernetes control plane (etcd + kube-apiserver) on free loopback
 * ports, the way controller-runtime's envtest starts one: RBAC
 * authorization, ServiceAccount tokens signed by a fresh key, an admin
 * identity with a kubeconfig, everything in one temporary directory that is
 * removed on stop. No controllers run (no kube-controller-manager, no
 * scheduler, no kubelet).
 *
 * @example
 * ```ts
 * await using cp = await startControlPlane();
 * await cp.kubectl(["get", "namespaces"]);
 * ```
 *
 * @module
 */

import { KubeHttp } from "../../lib/kube/http.ts";
import { type Binaries, ensureBinaries, type Progress } from "./build.ts";
import { registerCleanup } from "./cleanup.ts";
import { generateSigningKeyPem, randomToken } from "./credentials.ts";
import { renderKubeconfig } from "./kubeconfig.ts";
import { freePort, ManagedProcess, processExists } from "./process.ts";
import { runtimeTempRoot } from "./paths.ts";
import { delay } from "./wait.ts";

/** Prefix of every control plane's temporary directory. */
export const TEMP_PREFIX = "mysqlop-cp-";

/** Options of {@linkcode startControlPlane}. */
export interface ControlPlaneOptions {
  /** Prebuilt component paths; built (or taken from KUBEBUILDER_ASSETS) when omitted. */
  binaries?: Binaries;
  /** Progress lines while building and starting (default: silent once built). */
  progress?: Progress;
  /** How long to wait for `/readyz` (default 60 s). */
  readyTimeoutMs?: number;
}

/** Result of a kubectl run. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A running control plane. Stop it with `stop()` or `await using`. */
export class ControlPlane {
  /** Temporary directory holding data, certificates, logs and kubeconfigs. */
  readonly dir: string;
  /** Base URL of the apiserver, e.g. `https://127.0.0.1:41234`. */
  readonly server: string;
  /** PEM bundle that verifies the apiserver's serving certificate. */
  readonly caCert: string;
  /** Path of the admin kubeconfig (user `admin`, group `system:masters`). */
  readonly kubeconfigPath: string;
  /** The apiserver's audit log (JSON lines; watches and Secret writes). */
  get auditLogPath(): string {
    return `${this.dir}/logs/audit.log`;
  }
  /** Admin client over one pooled connection. */
  readonly kube: KubeHttp;
  /** The components this control plane runs. */
  readonly binaries: Binaries;
  /** etcd and kube-apiserver (the array is replaced by a restart). */
  readonly processes: ManagedProcess[];
  readonly #unregister: () => void;
  readonly #extraStops = new Set<() => Promise<void>>();
  readonly #apiserverSpec: ManagedProcess["spec"];
  #stopped: Promise<void> | undefined;

  /** @internal use {@linkcode startControlPlane}. */
  constructor(init: {
    dir: string;
    server: string;
    caCert: string;
    kubeconfigPath: string;
    kube: KubeHttp;
    binaries: Binaries;
    processes: ManagedProcess[];
    unregister: () => void;
  }) {
    this.#apiserverSpec =
      init.processes.find((p) => p.spec.name === "kube-apiserver")!.spec;
    this.dir = init.dir;
    this.server = init.server;
    this.caCert = init.caCert;
    this.kubeconfigPath = init.kubeconfigPath;
    this.kube = init.kube;
    this.binaries = init.binaries;
    this.processes = init.processes;
    this.#unregister = init.unregister;
  }

  /**
   * Runs the real kubectl with the admin kubeconfig (or `kubeconfig`).
   * Never throws on a non-zero exit: the caller checks `code`.
   */
  async kubectl(
    args: string[],
    options: { stdin?: string; kubeconfig?: string } = {},
  ): Promise<CommandResult> {
    const child = new Deno.Command(this.binaries.kubectl, {
      args,
      env: {
        KUBECONFIG: options.kubeconfig ?? this.kubeconfigPath,
        HOME: this.dir,
      },
      clearEnv: true,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const output = await child.output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  }

  /** Writes a kubeconfig for another identity (e.g. a ServiceAccount token) and returns its path. */
  async writeKubeconfig(
    name: string,
    token: string,
    namespace?: string,
  ): Promise<string> {
    const path = `${this.dir}/kubeconfig-${name.replace(/[^a-z0-9.-]/gi, "_")}`;
    await Deno.writeTextFile(
      path,
      renderKubeconfig({
        server: this.server,
        caCert: this.caCert,
        token,
        name,
        namespace,
      }),
      { mode: 0o600 },
    );
    return path;
  }

  /** A client for another identity; the caller closes it. */
  clientFor(token: string): KubeHttp {
    return new KubeHttp({ server: this.server, caCert: this.caCert, token });
  }

  /**
   * Ties another component's lifetime to this control plane: `stop` runs
   * (before etcd and the apiserver stop) when the control plane stops.
   * Returns a function that unties it.
   */
  own(stop: () => Promise<void>): () => void {
    this.#extraStops.add(stop);
    return () => this.#extraStops.delete(stop);
  }

  /**
   * Stops kube-apiserver only (etcd and its data stay), e.g. to test how
   * clients behave while the API is unreachable.
   */
  async stopApiserver(): Promise<void> {
    const index = this.processes.findIndex((p) =>
      p.spec.name === "kube-apiserver"
    );
    if (index < 0) return;
    await this.processes[index]!.stop();
    this.processes.splice(index, 1);
  }

  /** Starts kube-apiserver again on the same port and waits until it is ready. */
  async startApiserver(timeoutMs = 60_000): Promise<void> {
    if (this.processes.some((p) => p.spec.name === "kube-apiserver")) return;
    this.processes.push(new ManagedProcess(this.#apiserverSpec));
    await waitReady(this.kube, this.processes, timeoutMs);
  }

  /** Stops everything it started and removes its directory. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      for (const stop of [...this.#extraStops].reverse()) {
        await stop().catch(() => {});
      }
      this.kube.close();
      // apiserver first, then etcd
      for (const process of [...this.processes].reverse()) {
        await process.stop();
      }
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
      this.#unregister();
    })();
    return this.#stopped;
  }

  /** Same as {@linkcode ControlPlane.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * Starts etcd and kube-apiserver, waits until `/readyz` answers ok and
 * writes the admin kubeconfig. On any failure everything started so far is
 * stopped and the error carries the failing component's last log lines.
 */
export async function startControlPlane(
  options: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  const binaries = options.binaries ??
    await ensureBinaries(options.progress ?? (() => {}));
  await sweepStaleDirs();
  const dir = await Deno.makeTempDir({
    dir: runtimeTempRoot(),
    prefix: TEMP_PREFIX,
  });
  await Deno.writeTextFile(`${dir}/owner.pid`, String(Deno.pid));
  const processes: ManagedProcess[] = [];
  let started: ControlPlane | undefined;
  const cleanup = async () => {
    if (started) return await started.stop();
    for (const process of [...processes].reverse()) await process.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  // On SIGINT/SIGTERM: the whole stop (adapters first) once started.
  const unregister = registerCleanup(cleanup);
  try {
    await Deno.mkdir(`${dir}/logs`);
    const etcdPort = freePort();
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${freePort()}`;
    const etcd = new ManagedProcess({
      name: "etcd",
      command: binaries.etcd,
      args: [
        "--name=test",
        `--data-dir=${dir}/etcd`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=test=${peerUrl}`,
        "--unsafe-no-fsync=true",
        "--log-level=warn",
      ],
      env: {},
      logPath: `${dir}/logs/etcd.log`,
    });
    processes.push(etcd);

    const adminToken = randomToken();
    await Deno.writeTextFile(
      `${dir}/tokens.csv`,
      `${adminToken},admin,admin-uid,"system:masters"\n`,
      { mode: 0o600 },
    );
    const signingKey = await generateSigningKeyPem();
    await Deno.writeTextFile(`${dir}/sa.key`, signingKey.privateKey, {
      mode: 0o600,
    });
    await Deno.writeTextFile(`${dir}/sa.pub`, signingKey.publicKey);
    await Deno.mkdir(`${dir}/certs`);
    // Audit WATCH requests (that is how the harness sees an adapter's
    // watches open, see adapter.ts), writes of Secrets (how a test sees
    // that a cluster's credentials were written once) and reads of clusters
    // and StatefulSets (how a test sees which version a read asked for).
    await Deno.writeTextFile(
      `${dir}/audit-policy.yaml`,
      [
        "apiVersion: audit.k8s.io/v1",
        "kind: Policy",
        'omitStages: ["RequestReceived"]',
        "rules:",
        '  - level: Metadata\n    verbs: ["watch"]',
        "  - level: Metadata",
        '    verbs: ["create", "update", "patch", "delete"]',
        '    resources: [{ group: "", resources: ["secrets"] }]',
        "  - level: Metadata",
        '    verbs: ["get"]',
        '    resources: [{ group: "apps", resources: ["statefulsets"] }, { group: "database.example.com", resources: ["mysqlclusters"] }]',
        "  - level: None",
        "",
      ].join("\n"),
    );
    const securePort = freePort();
    const apiserver = new ManagedProcess({
      name: "kube-apiserver",
      command: binaries.kubeApiserver,
      args: [
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${dir}/certs`,
        `--secure-port=${securePort}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        "--service-cluster-ip-range=10.0.0.0/16",
        "--allow-privileged=true",
        "--authorization-mode=RBAC",
        "--disable-admission-plugins=ServiceAccount",
        "--endpoint-reconciler-type=none",
        `--token-auth-file=${dir}/tokens.csv`,
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${dir}/sa.pub`,
        `--service-account-signing-key-file=${dir}/sa.key`,
        `--audit-policy-file=${dir}/audit-policy.yaml`,
        `--audit-log-path=${dir}/logs/audit.log`,
        "--audit-log-mode=blocking",
      ],
      env: {},
      logPath: `${dir}/logs/kube-apiserver.log`,
    });
    processes.push(apiserver);

    const server = `https://127.0.0.1:${securePort}`;
    const caCert = await waitForFile(
      `${dir}/certs/apiserver.crt`,
      processes,
      options.readyTimeoutMs,
    );
    const kube = new KubeHttp({
      server,
      caCert,
      token: adminToken,
      timeoutMs: 5_000,
    });
    try {
      await waitReady(kube, processes, options.readyTimeoutMs ?? 60_000);
    } catch (error) {
      kube.close();
      throw error;
    }
    const kubeconfigPath = `${dir}/kubeconfig`;
    await Deno.writeTextFile(
      kubeconfigPath,
      renderKubeconfig({ server, caCert, token: adminToken, name: "admin" }),
      { mode: 0o600 },
    );
    return started = new ControlPlane({
      dir,
      server,
      caCert,
      kubeconfigPath,
      kube,
      binaries,
      processes,
      unregister,
    });
  } catch (error) {
    await cleanup();
    unregister();
    throw error;
  }
}

async function waitForFile(
  path: string,
  processes: ManagedProcess[],
  timeoutMs = 60_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const text = await Deno.readTextFile(path).catch(() => "");
    if (text.includes("END CERTIFICATE")) return text;
    await failIfExited(processes);
    if (Date.now() > deadline) {
      throw new Error(
        `kube-apiserver wrote no serving certificate to ${path} within ${timeoutMs} ms`,
      );
    }
    await delay(20);
  }
}

async function waitReady(
  kube: KubeHttp,
  processes: ManagedProcess[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (true) {
    try {
      const body = await kube.request<string>("GET", "/readyz", {
        timeoutMs: 2_000,
      });
      if (String(body).trim() === "ok") return;
      last = String(body);
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await failIfExited(processes);
    if (Date.now() > deadline) {
      const apiserver = processes.find((p) => p.spec.name === "kube-apiserver");
      throw new Error(
        `kube-apiserver not ready within ${timeoutMs} ms (last: ${last})\n` +
          (apiserver ? await apiserver.tail() : ""),
      );
    }
    await delay(50);
  }
}

async function failIfExited(processes: ManagedProcess[]): Promise<void> {
  for (const process of processes) {
    const status = process.exitStatus;
    if (status) {
      throw new Error(
        `${process.spec.name} exited with code ${status.code} during start-up; last log lines:\n` +
          await process.tail(),
      );
    }
  }
}

/**
 * Removes control plane directories left by processes that no longer exist
 * (e.g. killed with SIGKILL: their children died with them, their
 * directories did not).
 */
export async function sweepStaleDirs(
  root = runtimeTempRoot(),
): Promise<string[]> {
  const removed: string[] = [];
  for await (const entry of Deno.readDir(root)) {
    if (!entry.isDirectory || !entry.name.startsWith(TEMP_PREFIX)) continue;
    const dir = `${root}/${entry.name}`;
    const owner = await Deno.readTextFile(`${dir}/owner.pid`).catch(() => "");
    if (owner === "") {
      // maybe being created right now by another process: give it a minute
      const info = await Deno.stat(dir).catch(() => null);
      if (!info?.mtime || Date.now() - info.mtime.getTime() < 60_000) continue;
    } else if (await processExists(Number(owner))) continue;
    // a read-only bind mount left by image_run.ts when its process was killed
    await new Deno.Command("umount", {
      args: [`${dir}/image/deno-dir`],
      stdout: "null",
      stderr: "null",
    }).output().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    removed.push(dir);
  }
  return removed;
}
