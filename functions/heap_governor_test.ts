import assert from "node:assert/strict";
import { getHeapStatistics } from "node:v8";
import { heapGovernor, lazyV8Collector, v8Collector } from "./heap_governor.ts";

const MiB = 2 ** 20;

Deno.test("heapGovernor collects past its budget, at most once an interval, and makes room for what survives", () => {
  let heap = 10 * MiB;
  let now = 0;
  let collected = 0;
  let survives = 8 * MiB;
  const govern = heapGovernor(32 * MiB, {
    heapTotal: () => heap,
    collect: () => {
      collected++;
      heap = survives;
      return true;
    },
    now: () => now,
  });
  assert.equal(govern(), false, "under the budget");
  heap = 40 * MiB;
  assert.equal(govern(), true);
  assert.equal(heap, 8 * MiB);
  heap = 40 * MiB;
  now = 500;
  assert.equal(govern(), false, "within the interval");
  now = 1_500;
  survives = 30 * MiB;
  assert.equal(govern(), true);
  assert.equal(collected, 2);
  heap = 50 * MiB;
  now = 3_000;
  assert.equal(
    govern(),
    false,
    "the budget is now twice what survived (60 MiB)",
  );
  heap = 61 * MiB;
  survives = 5 * MiB;
  assert.equal(govern(), true);
  heap = 33 * MiB;
  now = 5_000;
  assert.equal(govern(), true, "back to the budget given once the heap shrank");
});

Deno.test("v8Collector exposes V8's full collection, which frees unreachable memory", async () => {
  const collect = await v8Collector();
  assert.ok(collect, "gc exposed");
  let garbage: unknown[] | undefined = Array.from(
    { length: 200_000 },
    (_, i) => ({ i, text: `x${i}` }),
  );
  const before = getHeapStatistics().used_heap_size;
  assert.ok(garbage.length > 0);
  garbage = undefined;
  collect();
  assert.ok(
    getHeapStatistics().used_heap_size < before - 5 * MiB,
    "the dropped objects were collected",
  );
});

Deno.test("lazyV8Collector collects once V8's collection is loaded, not before", async () => {
  const collect = lazyV8Collector();
  assert.equal(collect(), false, "loading");
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(collect(), true);
});
