import assert from "node:assert/strict";
import { KeySerializer } from "./key_serializer.ts";

function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => open = resolve);
  return { open, opened };
}

Deno.test("KeySerializer runs work of one key one at a time, in order", async () => {
  const serializer = new KeySerializer();
  const log: string[] = [];
  const first = gate();
  const a = serializer.run("shop/db", async () => {
    log.push("a start");
    await first.opened;
    log.push("a end");
    return "a";
  });
  const b = serializer.run("shop/db", () => {
    log.push("b start");
    return Promise.resolve("b");
  });
  await Promise.resolve();
  assert.deepEqual(log, ["a start"]);
  first.open();
  assert.deepEqual(await Promise.all([a, b]), ["a", "b"]);
  assert.deepEqual(log, ["a start", "a end", "b start"]);
});

Deno.test("KeySerializer runs different keys concurrently", async () => {
  const serializer = new KeySerializer();
  const held = gate();
  const slow = serializer.run("shop/one", () => held.opened);
  const fast = await serializer.run("shop/two", () => Promise.resolve(2));
  assert.equal(fast, 2);
  held.open();
  await slow;
});

Deno.test("KeySerializer goes on after a failure and forgets idle keys", async () => {
  const serializer = new KeySerializer();
  await assert.rejects(
    serializer.run("k", () => Promise.reject(new Error("boom"))),
    /boom/,
  );
  assert.equal(await serializer.run("k", () => Promise.resolve(1)), 1);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(serializer.busyKeys, 0);
});
