/**
 * `deno task bench` (fourth part): the function's cold start, as Knative
 * sees it when it scales from zero — process spawn → `/readyz` answers →
 * the first event answered (a cluster created: children and status
 * written) — and its resident memory then, over `BENCH_RUNS` (default 5)
 * starts of each way to run it: `deno task start` (sources, with Deno's
 * cache) and the image's command (the minified bundle, nothing writable).
 *
 * @module
 */

import { clusterUpdateEvent, postEvent } from "../harness/events.ts";
import { startFunction } from "../harness/function_process.ts";
import { prepareImageRun } from "../harness/image_run.ts";
import { percentile, rssMiB } from "../harness/measure.ts";
import { clusterManifest, startOperatorBed } from "../harness/operator_bed.ts";
import { applyObjects } from "../harness/apply.ts";

const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? "5");
const NS = "bench";

await using cp = await startOperatorBed(NS);
const image = await prepareImageRun(cp);
const bundleBytes = (await Deno.stat(`${image.cwd}/function.js`)).size;

const rows: string[] = [];
for (const way of ["deno task start", "image (bundle)"]) {
  const ready: number[] = [];
  const firstEvent: number[] = [];
  const rss: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const name = `${way === "image (bundle)" ? "img" : "src"}${run}`;
    await applyObjects(cp.kube, [clusterManifest(NS, name)]);
    const started = performance.now();
    await using fn = await startFunction(cp, {
      name,
      env: way === "image (bundle)"
        ? { ...image.env, LOG_LEVEL: "warn" }
        : { LOG_LEVEL: "warn" },
      ...(way === "image (bundle)" ? { image } : {}),
    });
    ready.push(performance.now() - started);
    const response = await postEvent(
      fn.url,
      clusterUpdateEvent(cp.server, NS, name),
    );
    const body = await response.json();
    if (body.outcome !== "reconciled") {
      throw new Error(`${way}: ${JSON.stringify(body)}`);
    }
    firstEvent.push(performance.now() - started);
    rss.push(await rssMiB(fn.process.pid));
  }
  const row = (label: string, values: number[], unit: string) =>
    `${`${way}: ${label}`.padEnd(46)} p50 ${
      percentile(values, 50).toFixed(0).padStart(5)
    } ${unit}  min ${Math.min(...values).toFixed(0).padStart(5)}  max ${
      Math.max(...values).toFixed(0).padStart(5)
    }`;
  rows.push(
    row("spawn → /readyz", ready, "ms"),
    row("spawn → first event answered", firstEvent, "ms"),
    row("RSS after the first event", rss, "MiB"),
  );
  console.error(`${way}: done`);
}
console.log(`\nfunction cold start, ${RUNS} runs each`);
for (const row of rows) console.log(row);
console.log(
  `bundle: ${(bundleBytes / 1024 / 1024).toFixed(2)} MiB minified; ` +
    `image's Deno cache: ${image.cache}`,
);
