/**
 * `deno task bench` (fifth part): a burst, as `../shared/bench/side_by_side.sh`
 * measures it, with the breakdown it does not show — `BENCH_BURST` (default
 * 200) clusters created at once (one namespace each, 16 at a time) against
 * the function run as its image runs it, fed by the real ApiServerSource
 * adapters (clusters, and StatefulSets they own): the time until every
 * cluster has a status, the events per cluster by outcome (echoes answered
 * with no API call), latency per kind of event, the peak resident memory
 * (VmHWM) and how many events still came 5–15 s after the last status.
 *
 * @module
 */

import { startAdapter } from "../harness/adapter.ts";
import { startFunction } from "../harness/function_process.ts";
import { prepareImageRun } from "../harness/image_run.ts";
import { percentile } from "../harness/measure.ts";
import { startOperatorBed } from "../harness/operator_bed.ts";
import { delay } from "../harness/wait.ts";

const N = Number(Deno.env.get("BENCH_BURST") ?? "200");
const PREFIX = "burst";

await using cp = await startOperatorBed("bench");
const image = await prepareImageRun(cp);
await using fn = await startFunction(cp, {
  name: "burst",
  env: {
    ...image.env,
    LOG_LEVEL: "info",
    // the image's memory settings (knative/Dockerfile), or others to
    // compare: BENCH_V8_FLAGS= BENCH_MALLOC_ARENA_MAX= runs without them
    ...(Deno.env.get("BENCH_V8_FLAGS") !== undefined
      ? { DENO_V8_FLAGS: Deno.env.get("BENCH_V8_FLAGS")! }
      : {}),
    ...(Deno.env.get("BENCH_MALLOC_ARENA_MAX") !== undefined
      ? { MALLOC_ARENA_MAX: Deno.env.get("BENCH_MALLOC_ARENA_MAX")! }
      : {}),
  },
  image,
});
const source = (gvr: { Group: string; Version: string; Resource: string }) => ({
  namespaces: [],
  allNamespaces: true,
  resources: [{ gvr, selector: "" }],
  mode: "Resource" as const,
});
await startAdapter(cp, {
  name: "clusters",
  namespace: "mysql-operator",
  sourceConfig: source({
    Group: "database.example.com",
    Version: "v1",
    Resource: "mysqlclusters",
  }),
  sink: fn.url,
});
await startAdapter(cp, {
  name: "statefulsets",
  namespace: "mysql-operator",
  sourceConfig: {
    ...source({ Group: "apps", Version: "v1", Resource: "statefulsets" }),
    owner: { apiVersion: "database.example.com/v1", kind: "MySQLCluster" },
  },
  sink: fn.url,
});

async function pool<T>(items: T[], k: number, f: (x: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: k }, async () => {
      while (next < items.length) await f(items[next++]!);
    }),
  );
}

const names = Array.from({ length: N }, (_, i) => `${PREFIX}-${i}`);
await pool(names, 16, async (namespace) => {
  await cp.kube.request("POST", "/api/v1/namespaces", {
    body: {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace },
    },
  });
});
/** CPU seconds (user + system) of the processes whose command line matches. */
async function cpuSeconds(pattern: string): Promise<number> {
  const out = await new Deno.Command("sh", {
    args: [
      "-c",
      `for p in $(pgrep -f '${pattern}'); do cat /proc/$p/stat 2>/dev/null; done`,
    ],
  }).output();
  const ticks = new TextDecoder().decode(out.stdout).split("\n").filter((l) =>
    l
  ).map((line) => {
    const fields = line.slice(line.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  });
  return ticks.reduce((a, b) => a + b, 0) / 100;
}
const cpu = () =>
  Promise.all([
    cpuSeconds(`kube-apiserver.*${cp.dir}`),
    cpuSeconds(`etcd.*${cp.dir}`),
    cpuSeconds("function.js"),
    cpuSeconds("apiserver_receive_adapter"),
  ]);
const cpuBefore = await cpu();
const started = performance.now();
await pool(names, 16, async (namespace) => {
  await cp.kube.request(
    "POST",
    `/apis/database.example.com/v1/namespaces/${namespace}/mysqlclusters`,
    {
      body: {
        apiVersion: "database.example.com/v1",
        kind: "MySQLCluster",
        metadata: { name: "db", namespace },
        spec: {
          version: "8.4",
          replicas: 3,
          storageSize: "10Gi",
          resources: { cpu: "500m", memory: "1Gi" },
        },
      },
    },
  );
});
let converged = 0;
let convergeMs = 0;
while (performance.now() - started < 600_000) {
  const list = await cp.kube.request<
    {
      items: { metadata: { namespace: string }; status?: { phase?: string } }[];
    }
  >("GET", "/apis/database.example.com/v1/mysqlclusters");
  converged = list.items.filter((c) =>
    c.metadata.namespace.startsWith(`${PREFIX}-`) && c.status?.phase
  ).length;
  if (converged === N) {
    convergeMs = performance.now() - started;
    break;
  }
  await delay(100);
}
const cpuAfter = await cpu();
const handledAt = async () =>
  (await fn.logLines()).filter((l) => l.message === "event handled");
await delay(5_000);
const before = (await handledAt()).length;
await delay(10_000);
const lines = await handledAt();
const idle = lines.length - before;
const hwm = await new Deno.Command("sh", {
  args: ["-c", `grep VmHWM /proc/${fn.process.pid}/status`],
}).output();
const peakMiB =
  Number(/(\d+)/.exec(new TextDecoder().decode(hwm.stdout))?.[1]) /
  1024;

const byOutcome = new Map<string, number[]>();
for (const line of lines) {
  const key = `${String(line.outcome)}${
    String(line.type ?? "").endsWith("ping") ? " (resync)" : ""
  }`;
  byOutcome.set(key, [...(byOutcome.get(key) ?? []), Number(line.ms ?? 0)]);
}
console.log(
  `\nburst: ${N} clusters created at once, the function as its image runs it, real adapters`,
);
console.log(
  `  every cluster has a status after ${
    (convergeMs / 1000).toFixed(1)
  } s (${converged}/${N}); ${lines.length} events (${
    (lines.length / N).toFixed(2)
  } per cluster); peak RSS ${
    peakMiB.toFixed(0)
  } MiB; events 5–15 s after: ${idle}`,
);
const [apiserver, etcd, fnCpu, adapters] = cpuAfter.map((v, i) =>
  (v - cpuBefore[i]!).toFixed(1)
);
console.log(
  `  CPU until converged: kube-apiserver ${apiserver} s, etcd ${etcd} s, function ${fnCpu} s, adapters ${adapters} s (2 cores; the creations' own requests included)`,
);
for (const [outcome, ms] of [...byOutcome].sort()) {
  console.log(
    `  ${outcome.padEnd(12)} ${String(ms.length).padStart(5)} events  p50 ${
      percentile(ms, 50).toFixed(0).padStart(4)
    } ms  p99 ${percentile(ms, 99).toFixed(0).padStart(4)} ms`,
  );
}
