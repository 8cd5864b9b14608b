/**
 * `deno task bench`: how long the test bed takes to start, measured over
 * five fresh starts with prebuilt binaries — spawn of etcd +
 * kube-apiserver to `/readyz` ok, then the real ApiServerSource adapter to
 * its watch being open — and the resident memory of each component.
 *
 * @module
 */

import { resourceSource, startAdapter } from "../harness/adapter.ts";
import { ensureBinaries } from "../harness/build.ts";
import { startControlPlane } from "../harness/control_plane.ts";
import { percentile, rssMiB } from "../harness/measure.ts";

const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? "5");

const binaries = await ensureBinaries();
const ready: number[] = [];
const adapterReady: number[] = [];
const rss: Record<string, number[]> = {};
for (let run = 1; run <= RUNS; run++) {
  let t = performance.now();
  await using cp = await startControlPlane({ binaries });
  ready.push(performance.now() - t);
  t = performance.now();
  await using adapter = await startAdapter(cp, {
    name: "bench",
    namespace: "default",
    sink: "http://127.0.0.1:9/",
    sourceConfig: resourceSource("default", {
      Group: "apps",
      Version: "v1",
      Resource: "statefulsets",
    }),
  });
  adapterReady.push(performance.now() - t);
  for (const process of [...cp.processes, adapter.process]) {
    (rss[process.spec.name] ??= []).push(await rssMiB(process.pid));
  }
  console.error(
    `run ${run}/${RUNS}: control plane ${
      ready.at(-1)!.toFixed(0)
    } ms, adapter ${adapterReady.at(-1)!.toFixed(0)} ms`,
  );
}

const row = (name: string, values: number[], unit: string) =>
  `${name.padEnd(40)} p50 ${
    percentile(values, 50).toFixed(0).padStart(6)
  } ${unit}  ` +
  `min ${Math.min(...values).toFixed(0).padStart(6)}  max ${
    Math.max(...values).toFixed(0).padStart(6)
  }`;
console.log(`\ntest bed start, ${RUNS} runs`);
console.log(row("etcd + kube-apiserver: spawn → /readyz", ready, "ms"));
console.log(row("adapter: spawn → watch open", adapterReady, "ms"));
for (const [name, values] of Object.entries(rss)) {
  console.log(row(`${name} RSS after start`, values, "MiB"));
}
