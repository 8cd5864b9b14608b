/**
 * `deno task bench` (second part): the reconcile function against the local
 * apiserver, one event at a time as the ApiServerSource adapter delivers
 * them. Reports API requests per reconcile (create, no-op, status change)
 * and latency p50/p99 of create and no-op reconciles over `BENCH_EVENTS`
 * (default 1,000) events, HTTP included (a create sent as the adapter sends
 * it: the stored object, no status yet), of the echo of a pass's own
 * status write (answered with no API request), and of a status change (200
 * at most: a StatefulSet's status written, its event sent at once, as the
 * adapter sends it). Telemetry runs as in production
 * (spans and trace ids made; exported only if an OTLP endpoint is set).
 *
 * @module
 */

import { createHandler } from "../../functions/handler.ts";
import { permissionTable } from "../../lib/kube/api.ts";
import { KubeHttp } from "../../lib/kube/http.ts";
import { PermissionSet } from "../../lib/kube/permissions.ts";
import { loadKubeAccess } from "../../lib/kube/config.ts";
import { startTelemetry } from "../../lib/telemetry/telemetry.ts";
import { applyObjects } from "../harness/apply.ts";
import { clusterManifest, startOperatorBed } from "../harness/operator_bed.ts";
import {
  clusterUpdateEvent,
  postEvent,
  resourceEvent,
} from "../harness/events.ts";
import { percentile } from "../harness/measure.ts";

const EVENTS = Number(Deno.env.get("BENCH_EVENTS") ?? "1000");
const NS = "bench";

await using cp = await startOperatorBed(NS);
using kube = new KubeHttp({
  ...await loadKubeAccess(cp.kubeconfigPath),
  permissions: new PermissionSet(permissionTable()),
});
await using server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  // spans are made (trace ids, the trace annotation) as in production;
  // exported only when OTEL_EXPORTER_OTLP_ENDPOINT is set
  createHandler({ kube, telemetry: startTelemetry() }),
);
const url = `http://127.0.0.1:${server.addr.port}/`;

async function send(
  name: string,
  event = clusterUpdateEvent(cp.server, NS, name),
): Promise<{ ms: number; requests: number; outcome: string }> {
  const before = kube.requestCount;
  const started = performance.now();
  const response = await postEvent(url, event);
  const body = await response.json();
  const ms = performance.now() - started;
  if (response.status !== 200) {
    throw new Error(`${name}: ${response.status} ${JSON.stringify(body)}`);
  }
  return { ms, requests: kube.requestCount - before, outcome: body.outcome };
}

const create: number[] = [];
const noop: number[] = [];
const requests: Record<string, Set<number>> = {
  create: new Set(),
  noop: new Set(),
  status: new Set(),
};
const names = Array.from({ length: EVENTS }, (_, i) => `c${i}`);
for (const [i, name] of names.entries()) {
  await applyObjects(cp.kube, [clusterManifest(NS, name)]);
  // the add event the adapter sends: the object as stored, no status yet
  const stored = await cp.kube.request<Record<string, unknown>>(
    "GET",
    `/apis/database.example.com/v1/namespaces/${NS}/mysqlclusters/${name}`,
  );
  const result = await send(name, resourceEvent("add", stored, cp.server));
  create.push(result.ms);
  requests.create!.add(result.requests);
  if ((i + 1) % 250 === 0) console.error(`created ${i + 1}/${EVENTS}`);
}
for (const name of names) {
  const result = await send(name);
  if (result.outcome !== "unchanged") {
    throw new Error(`${name}: not a no-op: ${result.outcome}`);
  }
  noop.push(result.ms);
  requests.noop!.add(result.requests);
}
// an echo: the event the adapter sends for the pass's own status write
const echo: number[] = [];
const echoRequests = new Set<number>();
for (const name of names.slice(0, Math.min(200, names.length))) {
  const stored = await cp.kube.request<Record<string, unknown>>(
    "GET",
    `/apis/database.example.com/v1/namespaces/${NS}/mysqlclusters/${name}`,
  );
  const before = kube.requestCount;
  const started = performance.now();
  const response = await postEvent(
    url,
    resourceEvent("update", stored, cp.server),
  );
  const body = await response.json();
  echo.push(performance.now() - started);
  echoRequests.add(kube.requestCount - before);
  if (body.outcome !== "echo") {
    throw new Error(`${name}: not an echo: ${JSON.stringify(body)}`);
  }
}
// a status change: the StatefulSet reports every replica ready, and its
// event is sent as the adapter sends it, right after the write (the stored
// StatefulSet)
const statusChange: number[] = [];
for (const name of names.slice(0, Math.min(200, names.length))) {
  const path = `/apis/apps/v1/namespaces/${NS}/statefulsets/${name}`;
  const sts = await cp.kube.request<Record<string, { generation: number }>>(
    "GET",
    path,
  );
  const updated = await cp.kube.request<Record<string, unknown>>(
    "PUT",
    `${path}/status`,
    {
      body: {
        ...sts,
        status: {
          observedGeneration: sts.metadata!.generation,
          replicas: 3,
          readyReplicas: 3,
          updatedReplicas: 3,
        },
      },
    },
  );
  const result = await send(name, resourceEvent("update", updated, cp.server));
  if (result.outcome !== "reconciled") {
    throw new Error(
      `${name}: the status change was not seen: ${result.outcome}`,
    );
  }
  statusChange.push(result.ms);
  requests.status!.add(result.requests);
}

const row = (label: string, values: number[]) =>
  `${label.padEnd(40)} p50 ${
    percentile(values, 50).toFixed(1).padStart(6)
  } ms  p99 ${percentile(values, 99).toFixed(1).padStart(6)} ms`;
console.log(
  `\nreconcile function, ${EVENTS} events each, one at a time (HTTP included)`,
);
console.log(row("create (3-replica cluster)", create));
console.log(row("no-op (unchanged cluster)", noop));
console.log(row("echo of its own status write", echo));
console.log(row("status change (its StatefulSet's event)", statusChange));
console.log(
  `API requests per echo   event:     ${[...echoRequests].sort().join(" / ")}`,
);
for (const [kind, counts] of Object.entries(requests)) {
  console.log(
    `API requests per ${kind.padEnd(7)} reconcile: ${
      [...counts].sort().join(" / ")
    }`,
  );
}
