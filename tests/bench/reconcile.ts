/**
 * `deno task bench` (second part): the reconcile function against the local
 * apiserver, one event at a time as the ApiServerSource adapter delivers
 * them. Reports API requests per reconcile (create, no-op, status change)
 * and latency p50/p99 of create and no-op reconciles over `BENCH_EVENTS`
 * (default 1,000) events, HTTP included.
 *
 * @module
 */

import { CloudEvent, HTTP } from "cloudevents";
import { createHandler } from "../../functions/handler.ts";
import { mysqlClusterCrd } from "../../lib/crd.ts";
import { KubeHttp } from "../../lib/kube_http.ts";
import { loadKubeAccess } from "../../lib/kube_config.ts";
import { applyObjects } from "../harness/apply.ts";
import { startControlPlane } from "../harness/control_plane.ts";
import { installCrds } from "../harness/crds.ts";

const EVENTS = Number(Deno.env.get("BENCH_EVENTS") ?? "1000");
const NS = "bench";

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
  ]!;
}

await using cp = await startControlPlane();
await installCrds(cp.kube, [mysqlClusterCrd()]);
await applyObjects(cp.kube, [{
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name: NS },
}]);
using kube = new KubeHttp(await loadKubeAccess(cp.kubeconfigPath));
await using server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  createHandler({ kube }),
);
const url = `http://127.0.0.1:${server.addr.port}/`;

async function send(
  name: string,
): Promise<{ ms: number; requests: number; outcome: string }> {
  const event = new CloudEvent({
    type: "dev.knative.apiserver.resource.update",
    source: cp.server,
    datacontenttype: "application/json",
    data: {
      apiVersion: "database.example.com/v1",
      kind: "MySQLCluster",
      metadata: { name, namespace: NS },
    },
  });
  const message = HTTP.binary(event);
  const before = kube.requestCount;
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: message.headers as Record<string, string>,
    body: message.body as string,
  });
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
  await applyObjects(cp.kube, [{
    apiVersion: "database.example.com/v1",
    kind: "MySQLCluster",
    metadata: { name, namespace: NS },
    spec: { version: "8.4", storageSize: "1Gi", replicas: 3 },
  }]);
  const result = await send(name);
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
// a status change: the StatefulSet reports every replica ready
for (const name of names.slice(0, 20)) {
  const path = `/apis/apps/v1/namespaces/${NS}/statefulsets/${name}`;
  const sts = await cp.kube.request<Record<string, { generation: number }>>(
    "GET",
    path,
  );
  await cp.kube.request("PUT", `${path}/status`, {
    body: {
      ...sts,
      status: {
        observedGeneration: sts.metadata!.generation,
        replicas: 3,
        readyReplicas: 3,
        updatedReplicas: 3,
      },
    },
  });
  requests.status!.add((await send(name)).requests);
}

const row = (label: string, values: number[]) =>
  `${label.padEnd(34)} p50 ${
    percentile(values, 50).toFixed(1).padStart(6)
  } ms  p99 ${percentile(values, 99).toFixed(1).padStart(6)} ms`;
console.log(
  `\nreconcile function, ${EVENTS} events each, one at a time (HTTP included)`,
);
console.log(row("create (3-replica cluster)", create));
console.log(row("no-op (unchanged cluster)", noop));
for (const [kind, counts] of Object.entries(requests)) {
  console.log(
    `API requests per ${kind.padEnd(7)} reconcile: ${
      [...counts].sort().join(" / ")
    }`,
  );
}
