import assert from "node:assert/strict";
import { createContextKey, ROOT_CONTEXT } from "@opentelemetry/api";
import { AsyncContextManager } from "./context_manager.ts";

const KEY = createContextKey("test");

Deno.test("AsyncContextManager keeps the context across awaits, nested and in parallel", async () => {
  const manager = new AsyncContextManager();
  assert.equal(manager.active(), ROOT_CONTEXT);
  const a = ROOT_CONTEXT.setValue(KEY, "a");
  const b = ROOT_CONTEXT.setValue(KEY, "b");
  const seen = await Promise.all(
    [a, b].map((ctx) =>
      manager.with(ctx, async () => {
        await new Promise((r) => setTimeout(r, 5));
        const outer = manager.active().getValue(KEY);
        const inner = await manager.with(
          ctx.setValue(KEY, `${outer}+`),
          async () => {
            await Promise.resolve();
            return manager.active().getValue(KEY);
          },
        );
        return [outer, inner, manager.active().getValue(KEY)];
      })
    ),
  );
  assert.deepEqual(seen, [["a", "a+", "a"], ["b", "b+", "b"]]);
  assert.equal(manager.active(), ROOT_CONTEXT, "nothing leaks out");
});

Deno.test("AsyncContextManager binds a function to a context, passes this and arguments", () => {
  const manager = new AsyncContextManager();
  const ctx = ROOT_CONTEXT.setValue(KEY, "bound");
  const bound = manager.bind(
    ctx,
    function (this: { n: number }, m: number) {
      return [this.n + m, manager.active().getValue(KEY)];
    },
  );
  assert.deepEqual(bound.call({ n: 1 }, 2), [3, "bound"]);
  assert.equal(manager.bind(ctx, 42), 42, "not a function: as it is");
  assert.equal(
    manager.with(ctx, function (this: string) {
      return this;
    }, "self"),
    "self",
  );
});
