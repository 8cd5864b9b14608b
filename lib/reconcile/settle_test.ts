import assert from "node:assert/strict";
import { settleAll } from "./settle.ts";

Deno.test("settleAll throws a failure only once every other call has settled", async () => {
  const settled: string[] = [];
  const slow = () =>
    new Promise<string>((resolve) =>
      setTimeout(() => {
        settled.push("slow");
        resolve("slow");
      }, 20)
    );
  const failing = () => {
    settled.push("failed");
    return Promise.reject(new Error("apply StatefulSet db: 500"));
  };
  await assert.rejects(settleAll([failing, slow]), /StatefulSet db: 500/);
  assert.deepEqual(settled, ["failed", "slow"], "the slow write had settled");
});

Deno.test("settleAll throws the first failure in task order and returns results in order", async () => {
  const later = (value: string, ms: number) => () =>
    new Promise<string>((resolve) => setTimeout(() => resolve(value), ms));
  assert.deepEqual(await settleAll([later("a", 10), later("b", 1)]), [
    "a",
    "b",
  ]);
  await assert.rejects(
    settleAll([
      () =>
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error("first")), 10)
        ),
      () => Promise.reject(new Error("second")),
    ]),
    /first/,
  );
});
