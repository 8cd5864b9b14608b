/**
 * `deno task bench` (third part): what tracing costs a request. Runs the
 * function as `deno task start` does, once per telemetry setting, sends
 * `BENCH_EVENTS` (default 1,000) no-op events one at a time and reports
 * response latency and the flush time the function reports in its
 * `Server-Timing` header, p50/p99:
 * SDK disabled, spans not exported (no endpoint), a local OTLP receiver,
 * and the collector down (nothing listening at the endpoint).
 *
 * @module
 */

import { startOperatorBed } from "../harness/operator_bed.ts";
import { clusterUpdateEvent, postEvent } from "../harness/events.ts";
import { percentile } from "../harness/measure.ts";
import { startFunction } from "../harness/function_process.ts";
import { startOtlpReceiver } from "../harness/otlp_receiver.ts";
import { freePort } from "../harness/process.ts";

const EVENTS = Number(Deno.env.get("BENCH_EVENTS") ?? "1000");
const NS = "bench";

await using cp = await startOperatorBed(NS, ["db"]);
const receiver = startOtlpReceiver();

const settings: [string, Record<string, string>][] = [
  ["SDK disabled", { OTEL_SDK_DISABLED: "true" }],
  ["spans made, not exported", {}],
  ["local OTLP receiver", { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint }],
  ["collector down", {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${freePort()}`,
  }],
];

const rows: string[] = [];
for (const [label, env] of settings) {
  await using fn = await startFunction(cp, {
    name: label.replace(/\W+/g, "-"),
    env: { ...env, LOG_LEVEL: "warn" },
  });
  const latency: number[] = [];
  const flush: number[] = [];
  for (let i = 0; i < EVENTS + 20; i++) {
    const started = performance.now();
    const response = await postEvent(
      fn.url,
      clusterUpdateEvent(cp.server, NS, "db"),
    );
    await response.arrayBuffer();
    const ms = performance.now() - started;
    if (response.status !== 200) {
      throw new Error(`${label}: ${response.status}`);
    }
    if (i < 20) continue; // warm-up: the first reconcile creates the children
    latency.push(ms);
    const timing = response.headers.get("server-timing") ?? "";
    flush.push(Number(/flush;dur=([\d.]+)/.exec(timing)?.[1] ?? "NaN"));
  }
  rows.push(
    `${label.padEnd(26)} latency p50 ${
      percentile(latency, 50).toFixed(2).padStart(6)
    } ms  p99 ${
      percentile(latency, 99).toFixed(2).padStart(6)
    } ms   flush p50 ${percentile(flush, 50).toFixed(2).padStart(5)} ms  p99 ${
      percentile(flush, 99).toFixed(2).padStart(5)
    } ms`,
  );
  console.error(`${label}: done`);
}
await receiver.close();
console.log(
  `\ntracing cost per no-op reconcile, ${EVENTS} events each (HTTP included)`,
);
for (const row of rows) console.log(row);
console.log(`spans received by the local receiver: ${receiver.spans.length}`);
