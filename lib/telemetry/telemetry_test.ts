import assert from "node:assert/strict";
import { FLUSH_COOL_DOWN_MS, flushBreaker } from "./telemetry.ts";

Deno.test("flushBreaker waits while the collector answers", async () => {
  let calls = 0;
  const flush = flushBreaker(() => {
    calls++;
    return Promise.resolve();
  }, 100);
  assert.equal((await flush()).outcome, "done");
  assert.equal((await flush()).outcome, "done");
  assert.equal(calls, 2);
});

Deno.test("flushBreaker stops waiting after a failure, then tries again", async () => {
  let clock = 0;
  let healthy = false;
  let calls = 0;
  const flush = flushBreaker(
    () => {
      calls++;
      return healthy ? Promise.resolve() : Promise.reject(new Error("down"));
    },
    100,
    () => clock,
  );
  assert.equal((await flush()).outcome, "failed");
  clock += FLUSH_COOL_DOWN_MS - 1;
  assert.equal((await flush()).outcome, "skipped");
  assert.equal(calls, 2, "skipped flushes still send the spans");
  clock += 1;
  assert.equal((await flush()).outcome, "failed");
  // the pause doubled
  clock += FLUSH_COOL_DOWN_MS;
  assert.equal((await flush()).outcome, "skipped");
  clock += FLUSH_COOL_DOWN_MS;
  healthy = true;
  assert.equal((await flush()).outcome, "done");
  assert.equal((await flush()).outcome, "done");
});

Deno.test("flushBreaker bounds a flush that never ends", async () => {
  const flush = flushBreaker(() => new Promise(() => {}), 30);
  const result = await flush();
  assert.equal(result.outcome, "timeout");
  assert.ok(result.ms >= 25, `${result.ms}`);
});
