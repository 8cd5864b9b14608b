import assert from "node:assert/strict";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { parentContext } from "./trace_context.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

Deno.test("parentContext continues the event's traceparent first", () => {
  const parent = parentContext(
    { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: "k=v" },
    { traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-01` },
  );
  const span = trace.getSpanContext(parent);
  assert.equal(span?.traceId, TRACE);
  assert.equal(span?.spanId, SPAN);
  assert.equal(span?.isRemote, true);
  assert.equal(span?.traceState?.get("k"), "v");
});

Deno.test("parentContext falls back to the HTTP traceparent", () => {
  const parent = parentContext(
    { traceparent: "garbage" },
    { traceparent: `00-${TRACE}-${SPAN}-00` },
  );
  assert.equal(trace.getSpanContext(parent)?.traceId, TRACE);
  assert.equal(trace.getSpanContext(parent)?.traceFlags, 0);
});

Deno.test("parentContext starts a new trace when nothing valid came", () => {
  assert.equal(
    parentContext({ traceparent: `00-${"0".repeat(32)}-${SPAN}-01` }, {}),
    ROOT_CONTEXT,
  );
  assert.equal(parentContext(undefined, {}), ROOT_CONTEXT);
});
