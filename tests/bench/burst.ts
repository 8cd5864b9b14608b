/**
 * `deno task bench` (fifth part): a burst, as `../shared/bench/side_by_side.sh`
 * measures it, with the breakdown it does not show — `BENCH_BURST` (default
 * 200) clusters created at once (one namespace each, 16 at a time) against
 * the function run as its image runs it, fed by the real ApiServerSource
 * adapters (clusters, and StatefulSets they own): the time until every
 * cluster has a status, the events per cluster by outcome (echoes answered
 * with no API call), latency per kind of event, the peak resident memory
 * (VmHWM) and how many events still came 5–15 s after the last status.
 * The adapters send through a relay (tests/harness/event_relay.ts) that
 * can make the sink slow (`BENCH_SINK_DELAY_MS` per event, default 0), or
 * stall it once (`BENCH_SINK_STALL_MS`, the first cluster event after the
 * 100th event: the clusters' lane stops while the burst goes on), so that the
 * apiserver closes the adapters' watches; the part reports the watches
 * opened again (the audit log), how many clusters the events alone left without a
 * status, and the time a pending resync takes to repair them.
 *
 * @module
 */

import { KINDS } from "../../lib/core/kinds.ts";
import { resourcePath } from "../../lib/kube/api.ts";
import { ADAPTER_USER_AGENT } from "../harness/adapter.ts";
import { EventRelay } from "../harness/event_relay.ts";
import { pingEvent, postEvent } from "../harness/events.ts";
import { ClusterWatch } from "../harness/cluster_watch.ts";
import { startFunction } from "../harness/function_process.ts";
import { prepareImageRun } from "../harness/image_run.ts";
import { startKnativeSources } from "../harness/knative_base.ts";
import { peakRssMiB, percentile } from "../harness/measure.ts";
import { clusterManifest, startOperatorBed } from "../harness/operator_bed.ts";
import { delay, pool } from "../harness/wait.ts";

const N = Number(Deno.env.get("BENCH_BURST") ?? "200");
const SINK_DELAY_MS = Number(Deno.env.get("BENCH_SINK_DELAY_MS") ?? "0");
const SINK_STALL_MS = Number(Deno.env.get("BENCH_SINK_STALL_MS") ?? "0");
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
let stalled = false;
await using relay = new EventRelay({
  targets: [fn.url],
  delayMs: (n, event) => {
    if (
      SINK_STALL_MS > 0 && !stalled && n >= 100 &&
      event.headers["ce-kind"] === "MySQLCluster"
    ) {
      stalled = true;
      return SINK_DELAY_MS + SINK_STALL_MS;
    }
    return SINK_DELAY_MS;
  },
});
// the two ApiServerSources of knative/base/sources.yaml (one watch each)
await startKnativeSources(cp, relay.url, [
  "mysql-clusters",
  "mysql-statefulsets",
]);

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
      `for p in $(pgrep -f -- '${pattern}'); do cat /proc/$p/stat 2>/dev/null; done`,
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
    // etcd's own flag: kube-apiserver's --etcd-servers would match `etcd`
    cpuSeconds(`--data-dir=${cp.dir}/etcd`),
    cpuSeconds("function.js"),
    cpuSeconds("apiserver_receive_adapter"),
  ]);
// statuses seen as they are written, with no list at every poll
await using statuses = await ClusterWatch.start(cp);
const inBurst = (key: string) => key.startsWith(`${PREFIX}-`);
const cpuBefore = await cpu();
const started = performance.now();
await pool(names, 16, async (namespace) => {
  await cp.kube.request("POST", resourcePath(KINDS.MySQLCluster, namespace), {
    body: clusterManifest(namespace, "db", {
      version: "8.4",
      replicas: 3,
      storageSize: "10Gi",
      resources: { cpu: "500m", memory: "1Gi" },
    }),
  });
});
let converged = 0;
let convergeMs = 0;
/** Clusters of the burst with a status, listed (once, after a repair). */
async function withStatus(): Promise<number> {
  const list = await cp.kube.request<
    {
      items: { metadata: { namespace: string }; status?: { phase?: string } }[];
    }
  >("GET", resourcePath(KINDS.MySQLCluster));
  return list.items.filter((c) =>
    c.metadata.namespace.startsWith(`${PREFIX}-`) && c.status?.phase
  ).length;
}
// until every cluster has a status, or no event came for 20 s and none is
// held (the rest were lost on the way: only a resync repairs them)
let lastEvents = -1;
let lastChange = performance.now();
while (performance.now() - started < 1_200_000) {
  converged = statuses.withStatus(inBurst);
  if (converged === N) break;
  if (relay.events.length !== lastEvents) {
    lastEvents = relay.events.length;
    lastChange = performance.now();
  } else if (
    relay.inFlight === 0 && performance.now() - lastChange > 20_000
  ) break;
  await delay(10);
}
convergeMs = performance.now() - started;
// when the watch saw the last cluster get its first status (not when the
// loop gave up, for a burst the events alone did not converge)
const lastStatusAt = statuses.lastFirstStatusAt;
const byEvents = converged;
// a watch the apiserver closed is opened again: the audit log has every
// watch the adapters opened (the apiserver logs the closure only at -v=1)
const watchesOpened = (await Deno.readTextFile(cp.auditLogPath)).split("\n")
  .filter((l) =>
    l.includes('"verb":"watch"') && l.includes('"stage":"ResponseStarted"') &&
    l.includes(ADAPTER_USER_AGENT)
  ).length;
const reopened = watchesOpened - 2;
let repairMs: number | undefined;
if (converged < N) {
  const t0 = performance.now();
  const response = await postEvent(fn.url, pingEvent("pending"));
  await response.body?.cancel();
  repairMs = performance.now() - t0;
  converged = await withStatus();
}
const cpuAfter = await cpu();
const handledAt = async () =>
  (await fn.logLines()).filter((l) => l.message === "event handled");
await delay(5_000);
const before = (await handledAt()).length;
await delay(10_000);
const lines = await handledAt();
const idle = lines.length - before;
// quiet: how long after the last status the last event was handled (its
// log line is written as it is answered)
const lastHandledAt = Math.max(
  ...lines.map((l) => Date.parse(String(l.time))).filter(Number.isFinite),
);
const quietAfterS = (lastHandledAt - lastStatusAt) / 1000;
const peakMiB = await peakRssMiB(fn.process.pid);

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
  `  ${
    byEvents === N
      ? `every cluster has a status after ${
        (convergeMs / 1000).toFixed(1)
      } s, by events alone (no resync)`
      : `events alone gave ${byEvents}/${N} clusters a status (quiet 20 s after ${
        ((convergeMs - 20_000) / 1000).toFixed(1)
      } s); a pending resync repaired the rest in ${
        ((repairMs ?? 0) / 1000).toFixed(1)
      } s: ${converged}/${N}`
  }; sink delay ${SINK_DELAY_MS} ms${
    SINK_STALL_MS ? `, one stall of ${SINK_STALL_MS / 1000} s` : ""
  }; adapter watches opened again (closed on the way): ${reopened}; ${lines.length} events (${
    (lines.length / N).toFixed(2)
  } per cluster); peak RSS ${peakMiB.toFixed(0)} MiB; the last event handled ${
    quietAfterS >= 0
      ? `${quietAfterS.toFixed(2)} s after the last status`
      : `before the watch saw the last status`
  }; events 5–15 s after: ${idle}`,
);
const [apiserver, etcd, fnCpu, adapters] = cpuAfter.map((v, i) =>
  (v - cpuBefore[i]!).toFixed(1)
);
console.log(
  `  CPU until converged: kube-apiserver ${apiserver} s, etcd ${etcd} s, function ${fnCpu} s, adapters ${adapters} s (${navigator.hardwareConcurrency} cores; the creations' own requests included)`,
);
for (const [outcome, ms] of [...byOutcome].sort()) {
  console.log(
    `  ${outcome.padEnd(12)} ${String(ms.length).padStart(5)} events  p50 ${
      percentile(ms, 50).toFixed(0).padStart(4)
    } ms  p99 ${percentile(ms, 99).toFixed(0).padStart(4)} ms`,
  );
}
