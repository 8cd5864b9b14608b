/**
 * `deno task dev`: starts the local control plane (building it first, with
 * progress, when needed), installs the Knative CRDs and prints how to reach
 * it. Ctrl-C stops everything and removes its temporary directory.
 *
 * Running the function against it with the real ApiServerSource adapter
 * comes with the reconcile function; today this is the cluster half of the
 * loop.
 *
 * @module
 */

import { startControlPlane } from "./control_plane.ts";
import { installCrds, readKnativeCrds } from "./crds.ts";
import { ensureBinaries } from "./build.ts";

const started = performance.now();
const binaries = await ensureBinaries();
const cp = await startControlPlane({ binaries });
await installCrds(cp.kube, await readKnativeCrds(binaries.knativeCrdDir));
const seconds = ((performance.now() - started) / 1000).toFixed(1);

console.log(`
Local control plane ready in ${seconds} s (kube-apiserver at ${cp.server}).

  export KUBECONFIG=${cp.kubeconfigPath}
  ${binaries.kubectl} get namespaces

Knative CRDs installed: Service, ApiServerSource, PingSource, Broker, Trigger.
Logs: ${cp.dir}/logs/   Press Ctrl-C to stop everything.
`);

// Ctrl-C (SIGINT) runs the control plane's registered teardown and exits.
await new Promise(() => {});
