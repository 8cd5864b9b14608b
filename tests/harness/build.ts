/**
 * Builds the test bed's real components from the Go module proxy:
 * kube-apiserver and kubectl (k8s.io/kubernetes), etcd
 * (go.etcd.io/etcd/server/v3) and the Knative ApiServerSource receive
 * adapter (knative.dev/eventing), plus the Knative CRDs read from the
 * knative.dev/serving and knative.dev/eventing module zips.
 *
 * Everything lands in {@linkcode cacheDir} outside the git tree and is built
 * once: a stamp records what each binary was built from (go.mod, go.sum, Go
 * version, flags), so a second run is a no-op. `KUBEBUILDER_ASSETS`, when set,
 * supplies kube-apiserver, etcd and kubectl instead (as `setup-envtest` lays
 * them out); the adapter is always built.
 *
 * Run it as `deno task controlplane:build`.
 *
 * @module
 */

import { cacheDir, GO_MODULES_DIR } from "./paths.ts";
import {
  ETCD_VERSION,
  EVENTING_VERSION,
  KUBERNETES_VERSION,
  SERVING_VERSION,
} from "./versions.ts";

/** Paths of the real components, ready to run. */
export interface Binaries {
  kubeApiserver: string;
  etcd: string;
  kubectl: string;
  adapter: string;
  /** Directory holding the Knative CRD YAML files. */
  knativeCrdDir: string;
}

/** Receives one progress line. */
export type Progress = (line: string) => void;

/** One `go build` invocation producing one or more binaries. */
interface BuildGroup {
  label: string;
  module: string;
  packages: string[];
  outputs: string[];
  ldflags: string;
  coldHint: string;
}

/** The Knative CRD files the manifests use, per module. */
export const KNATIVE_CRD_FILES: Readonly<Record<string, string[]>> = {
  [`knative.dev/serving@${SERVING_VERSION}`]: [
    "config/core/300-resources/service.yaml",
  ],
  [`knative.dev/eventing@${EVENTING_VERSION}`]: [
    "config/core/resources/apiserversource.yaml",
    "config/core/resources/pingsource.yaml",
    "config/core/resources/broker.yaml",
    "config/core/resources/trigger.yaml",
  ],
};

/**
 * The `-ldflags` that stamp a Kubernetes version into kube-apiserver and
 * kubectl (without them `kubectl version` cannot parse "v0.0.0-master").
 */
export function kubernetesVersionLdflags(version: string): string {
  const match = /^v(\d+)\.(\d+)\.\d+$/.exec(version);
  if (!match) throw new Error(`not a Kubernetes release version: ${version}`);
  const values: Record<string, string> = {
    gitVersion: version,
    gitMajor: match[1]!,
    gitMinor: match[2]!,
    gitTreeState: "clean",
  };
  const flags: string[] = [];
  for (
    const pkg of [
      "k8s.io/component-base/version",
      "k8s.io/client-go/pkg/version",
    ]
  ) {
    for (const [key, value] of Object.entries(values)) {
      flags.push(`-X ${pkg}.${key}=${value}`);
    }
  }
  return ["-s", "-w", ...flags].join(" ");
}

function buildGroups(includeKubernetes: boolean): BuildGroup[] {
  const groups: BuildGroup[] = [];
  if (includeKubernetes) {
    groups.push({
      label: `etcd ${ETCD_VERSION}`,
      module: "etcd",
      packages: ["go.etcd.io/etcd/server/v3"],
      outputs: ["etcd"],
      ldflags: "-s -w",
      coldHint: "about 45 s cold",
    });
  }
  groups.push({
    label: `apiserver_receive_adapter ${EVENTING_VERSION}`,
    module: "eventing",
    packages: ["knative.dev/eventing/cmd/apiserver_receive_adapter"],
    outputs: ["apiserver_receive_adapter"],
    ldflags: "-s -w",
    coldHint: "about 75 s cold",
  });
  if (includeKubernetes) {
    groups.push({
      label: `kube-apiserver + kubectl ${KUBERNETES_VERSION}`,
      module: "kubernetes",
      packages: [
        "k8s.io/kubernetes/cmd/kube-apiserver",
        "k8s.io/kubernetes/cmd/kubectl",
      ],
      outputs: ["kube-apiserver", "kubectl"],
      ldflags: kubernetesVersionLdflags(KUBERNETES_VERSION),
      coldHint: "about 3 min cold, 2 GB of memory",
    });
  }
  return groups;
}

/**
 * Returns the paths of all components, building what is missing or stale.
 * Throws with Go's own output when a build fails.
 */
export async function ensureBinaries(
  progress: Progress = (line) => console.error(line),
): Promise<Binaries> {
  const root = cacheDir();
  const binDir = `${root}/bin`;
  await Deno.mkdir(binDir, { recursive: true });
  const assets = Deno.env.get("KUBEBUILDER_ASSETS");
  const goVersion = await run(["go", "env", "GOVERSION"], root);
  for (const group of buildGroups(!assets)) {
    await buildGroup(group, binDir, goVersion.trim(), progress);
  }
  const knativeCrdDir = await ensureKnativeCrds(root, progress);
  const from = assets ? await assetDir(assets) : binDir;
  return {
    kubeApiserver: `${from}/kube-apiserver`,
    etcd: `${from}/etcd`,
    kubectl: `${from}/kubectl`,
    adapter: `${binDir}/apiserver_receive_adapter`,
    knativeCrdDir,
  };
}

async function assetDir(assets: string): Promise<string> {
  for (const name of ["kube-apiserver", "etcd", "kubectl"]) {
    const path = `${assets}/${name}`;
    const info = await Deno.stat(path).catch(() => null);
    if (!info?.isFile || ((info.mode ?? 0o111) & 0o111) === 0) {
      throw new Error(
        `KUBEBUILDER_ASSETS=${assets} has no executable ${name} ` +
          `(expected ${path}); unset it to build the binaries from Go modules`,
      );
    }
  }
  return assets;
}

async function buildGroup(
  group: BuildGroup,
  binDir: string,
  goVersion: string,
  progress: Progress,
): Promise<void> {
  const moduleDir = `${GO_MODULES_DIR}/${group.module}`;
  const stamp = await digest([
    goVersion,
    await Deno.readTextFile(`${moduleDir}/go.mod`),
    await Deno.readTextFile(`${moduleDir}/go.sum`),
    group.packages.join(" "),
    group.ldflags,
  ]);
  if (await upToDate(binDir, group.outputs, stamp)) {
    progress(`✓ ${group.label}: up to date`);
    return;
  }
  progress(
    `… ${group.label}: building (${group.coldHint}; warm rebuilds are quick)`,
  );
  const started = performance.now();
  const staging = await Deno.makeTempDir({ dir: binDir, prefix: ".build-" });
  try {
    await run(
      [
        "go",
        "build",
        "-trimpath",
        "-ldflags",
        group.ldflags,
        "-o",
        `${staging}/`,
        ...group.packages,
      ],
      moduleDir,
      { progress, label: group.label, started },
    );
    for (const [i, output] of group.outputs.entries()) {
      const built = `${staging}/${goBinaryName(group.packages[i]!)}`;
      await Deno.rename(built, `${binDir}/${output}`);
      await Deno.writeTextFile(`${binDir}/${output}.stamp`, stamp);
    }
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
  progress(`✓ ${group.label}: built in ${seconds(started)}`);
}

/** The file name `go build -o dir/` gives a main package's binary. */
export function goBinaryName(pkg: string): string {
  const parts = pkg.split("/");
  const last = parts.pop()!;
  return /^v\d+$/.test(last) && parts.length > 0 ? parts.pop()! : last;
}

async function upToDate(
  binDir: string,
  outputs: string[],
  stamp: string,
): Promise<boolean> {
  for (const output of outputs) {
    const recorded = await Deno.readTextFile(`${binDir}/${output}.stamp`)
      .catch(() => "");
    const exists = await Deno.stat(`${binDir}/${output}`).then(
      (info) => info.isFile,
      () => false,
    );
    if (recorded !== stamp || !exists) return false;
  }
  return true;
}

async function ensureKnativeCrds(
  root: string,
  progress: Progress,
): Promise<string> {
  const dir =
    `${root}/crds/knative-serving-${SERVING_VERSION}-eventing-${EVENTING_VERSION}`;
  const wanted = Object.values(KNATIVE_CRD_FILES).flat().map((file) =>
    `${dir}/${file.split("/").pop()}`
  );
  const present = await Promise.all(
    wanted.map((path) => Deno.stat(path).then(() => true, () => false)),
  );
  if (present.every(Boolean)) {
    progress(`✓ Knative CRDs: up to date`);
    return dir;
  }
  await Deno.mkdir(dir, { recursive: true });
  for (const [module, files] of Object.entries(KNATIVE_CRD_FILES)) {
    progress(
      `… Knative CRDs: reading ${module} from the module cache or proxy`,
    );
    const info = JSON.parse(
      await run(["go", "mod", "download", "-json", module], root),
    ) as { Dir?: string; Error?: string };
    if (!info.Dir) {
      throw new Error(`go mod download ${module}: ${info.Error ?? "no Dir"}`);
    }
    for (const file of files) {
      const text = await Deno.readTextFile(`${info.Dir}/${file}`);
      await Deno.writeTextFile(`${dir}/${file.split("/").pop()}`, text);
    }
  }
  progress(`✓ Knative CRDs: ${wanted.length} files in ${dir}`);
  return dir;
}

interface RunProgress {
  progress: Progress;
  label: string;
  started: number;
}

/** Runs a Go command; returns stdout, or throws with its full stderr. */
async function run(
  args: string[],
  cwd: string,
  report?: RunProgress,
): Promise<string> {
  const env = {
    CGO_ENABLED: "0",
    GOTOOLCHAIN: "local",
    GOFLAGS: "-mod=readonly",
  };
  const child = new Deno.Command(args[0]!, {
    args: args.slice(1),
    cwd,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let downloads = 0;
  const ticker = report
    ? setInterval(() => {
      const fetched = downloads ? `, ${downloads} modules downloaded` : "";
      report.progress(
        `  ${report.label}: still building (${
          seconds(report.started)
        }${fetched})`,
      );
    }, 20_000)
    : undefined;
  const stderrLines: string[] = [];
  const readErr = (async () => {
    const decoder = new TextDecoderStream();
    let pending = "";
    for await (const chunk of child.stderr.pipeThrough(decoder)) {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (line.startsWith("go: downloading")) downloads++;
        else stderrLines.push(line);
      }
    }
    if (pending) stderrLines.push(pending);
  })();
  const stdout = new Response(child.stdout).text();
  const [status, out] = await Promise.all([child.status, stdout, readErr])
    .then(([s, o]) => [s, o] as const)
    .finally(() => clearInterval(ticker));
  if (!status.success) {
    throw new Error(
      `${args.join(" ")} (in ${cwd}) failed with exit code ${status.code}:\n` +
        stderrLines.join("\n"),
    );
  }
  return out;
}

async function digest(parts: string[]): Promise<string> {
  const bytes = new TextEncoder().encode(parts.join("\u0000"));
  const hash = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(
    new Uint8Array(hash),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

if (import.meta.main) {
  const started = performance.now();
  try {
    const binaries = await ensureBinaries();
    console.error(`control plane binaries ready in ${seconds(started)}:`);
    for (const [name, path] of Object.entries(binaries)) {
      console.error(`  ${name.padEnd(14)} ${path}`);
    }
  } catch (error) {
    console.error(
      `controlplane:build failed: ${
        error instanceof Error ? error.message : error
      }`,
    );
    Deno.exit(1);
  }
}
