/**
 * `deno task bench` (sixth part): the resync at scale — `BENCH_RESYNC_CLUSTERS`
 * (default 10,000) clusters in namespaces of 100, never reconciled, then
 * resync events as the PingSource sends them, to the function as its image
 * runs it (its memory settings, `RESYNC_BUDGET_SECONDS` as
 * knative/base/service.yaml sets it, or `BENCH_RESYNC_BUDGET_SECONDS`),
 * spans to a local OTLP receiver.
 * Reports per resync: time, clusters done and changed, whether the budget
 * stopped it and where the next one resumes, the answer's size, spans and
 * export requests; then a resync of the converged clusters (no write), a
 * resync abandoned by its sender (how soon it stops), and the function's
 * peak resident memory (VmHWM).
 *
 * @module
 */

import { KINDS } from "../../lib/core/kinds.ts";
import { resourcePath } from "../../lib/kube/api.ts";
import { unconverged } from "../harness/cluster_state.ts";
import { pingEvent, type PingReason, postEvent } from "../harness/events.ts";
import { startFunction } from "../harness/function_process.ts";
import { prepareImageRun } from "../harness/image_run.ts";
import { knativeServiceEnv } from "../harness/knative_base.ts";
import { peakRssMiB } from "../harness/measure.ts";
import { clusterManifest, startOperatorBed } from "../harness/operator_bed.ts";
import { startOtlpReceiver } from "../harness/otlp_receiver.ts";
import { delay, pool } from "../harness/wait.ts";

const N = Number(Deno.env.get("BENCH_RESYNC_CLUSTERS") ?? "10000");
const PER_NAMESPACE = 100;
const budgetOverride = Deno.env.get("BENCH_RESYNC_BUDGET_SECONDS") || undefined;
const budget = budgetOverride ??
  (await knativeServiceEnv()).RESYNC_BUDGET_SECONDS;
if (budget === undefined) {
  throw new Error(
    "knative/base/service.yaml sets no RESYNC_BUDGET_SECONDS: set BENCH_RESYNC_BUDGET_SECONDS",
  );
}

await using cp = await startOperatorBed("bench");
const image = await prepareImageRun(cp);
const receiver = startOtlpReceiver();
await using fn = await startFunction(cp, {
  name: "resync-scale",
  env: {
    ...image.env,
    LOG_LEVEL: "info",
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    RESYNC_BUDGET_SECONDS: budget,
  },
  image,
});

const namespaces = Array.from(
  { length: Math.ceil(N / PER_NAMESPACE) },
  (_, i) => `scale-${String(i).padStart(3, "0")}`,
);
const clusters = Array.from({ length: N }, (_, i) => ({
  namespace: namespaces[Math.floor(i / PER_NAMESPACE)]!,
  name: `db-${String(i % PER_NAMESPACE).padStart(2, "0")}`,
}));
let started = performance.now();
await pool(
  namespaces,
  16,
  (name) =>
    cp.kube.request("POST", "/api/v1/namespaces", {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name } },
    }),
);
let created = 0;
await pool(clusters, 32, async ({ namespace, name }) => {
  await cp.kube.request("POST", resourcePath(KINDS.MySQLCluster, namespace), {
    body: clusterManifest(namespace, name),
  });
  if (++created % 1000 === 0) {
    console.error(`  created ${created}/${N} clusters`);
  }
});
console.log(
  `\nresync at scale: ${N} clusters in ${namespaces.length} namespaces (created in ${
    ((performance.now() - started) / 1000).toFixed(0)
  } s), the function as its image runs it, RESYNC_BUDGET_SECONDS ${budget} (${
    budgetOverride === undefined
      ? "knative/base/service.yaml"
      : "BENCH_RESYNC_BUDGET_SECONDS"
  })`,
);

/** VmHWM of the function, MiB. */
const peakMiB = () => peakRssMiB(fn.process.pid);

// deno-lint-ignore no-explicit-any
async function resync(reason: PingReason): Promise<any> {
  const spans = receiver.spans.length;
  const exports = receiver.bodies.length;
  const started = performance.now();
  const response = await postEvent(fn.url, pingEvent(reason));
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) {
    throw new Error(`resync answered ${response.status}: ${text}`);
  }
  const answer = JSON.parse(text);
  console.log(
    `  ${reason.padEnd(7)} ${(ms / 1000).toFixed(1).padStart(6)} s  done ${
      String(answer.done).padStart(5)
    }/${answer.total}  changed ${answer.changedCount}  failed ${answer.failedCount}${
      answer.stopped
        ? `  stopped (${answer.stopped}), next resumes after ${answer.resumeAfter}`
        : ""
    }  answer ${text.length} B  spans ${receiver.spans.length - spans} in ${
      receiver.bodies.length - exports
    } exports  peak RSS ${(await peakMiB()).toFixed(0)} MiB`,
  );
  return answer;
}

// first contact: nothing reconciled yet; resyncs until one goes round
started = performance.now();
for (let round = 1; round <= 8; round++) {
  const answer = await resync("resync");
  if (!answer.stopped) break;
}
const firstMs = performance.now() - started;
let left = 0;
for (const namespace of namespaces) {
  left += (await unconverged(cp.kube, namespace)).length;
}
console.log(
  `  every cluster reconciled from nothing in ${
    (firstMs / 1000).toFixed(0)
  } s of resyncs; not converged after: ${left}`,
);
// steady state: everything converged, a resync writes nothing
const steady = await resync("resync");
console.log(
  `  a resync of ${steady.total} converged clusters: ${steady.changedCount} writes`,
);
// the pending resync of the per-minute PingSource when nothing is pending
await resync("pending");

// abandoned: the sender gives up after 1 s
const abandon = new AbortController();
const sent = postEvent(
  fn.url,
  pingEvent("resync"),
  "binary",
  undefined,
  abandon.signal,
).catch(() => undefined);
await delay(1_000);
const abandonedAt = Date.now();
abandon.abort();
await sent;
let stoppedLine: Record<string, unknown> | undefined;
for (let i = 0; i < 200 && !stoppedLine; i++) {
  await delay(50);
  stoppedLine = (await fn.logLines()).find((l) =>
    l.message === "event handled" && l.stopped === "aborted"
  );
}
console.log(
  stoppedLine
    ? `  abandoned after 1 s: stopped ${
      Date.parse(String(stoppedLine.time)) - abandonedAt
    } ms after the sender left, ${stoppedLine.done} of ${stoppedLine.total} done`
    : "  abandoned after 1 s: NOT stopped within 10 s",
);
console.log(`  function peak RSS ${(await peakMiB()).toFixed(0)} MiB`);
await receiver.close();
