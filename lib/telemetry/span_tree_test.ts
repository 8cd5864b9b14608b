import assert from "node:assert/strict";
import { formatSpanTree, type TreeSpan } from "./span_tree.ts";

const root: TreeSpan = {
  name: "reconcile",
  spanId: "a",
  durationMs: 31.24,
  attributes: {
    "mysql.name": "demo",
    "mysql.namespace": "default",
    "http.response.status_code": 200,
    "mysql.outcome": "reconciled",
    "mysql.phase": "Provisioning",
    "cloudevents.event_type": "dev.knative.apiserver.resource.add",
  },
  events: [
    {
      name: "ensured Secret",
      attributes: {
        "k8s.kind": "Secret",
        "k8s.name": "demo-credentials",
        "mysql.action": "created",
      },
    },
    {
      name: "ensured Service",
      attributes: {
        "k8s.kind": "Service",
        "k8s.name": "demo",
        "mysql.action": "unchanged",
      },
    },
    { name: "status written" },
  ],
  error: false,
};

const call = (spanId: string, name: string, status: number): TreeSpan => ({
  name,
  spanId,
  parentSpanId: "a",
  durationMs: 1.5,
  attributes: { "http.response.status_code": status },
  events: [],
  error: false,
});

Deno.test("formatSpanTree says what was reconciled, what changed and the calls", () => {
  const text = formatSpanTree(root, [
    call("b", "GET /apis/x/{name}", 200),
    call("c", "POST /api/v1/namespaces/{namespace}/secrets", 201),
    root,
  ]);
  assert.equal(
    text,
    [
      "reconcile default/demo  200  31.2 ms  reconciled  phase Provisioning  ← apiserver.resource.add",
      "  changed: created Secret demo-credentials, status written",
      "  ├─ GET /apis/x/{name}  200  1.5 ms",
      "  └─ POST /api/v1/namespaces/{namespace}/secrets  201  1.5 ms",
    ].join("\n"),
  );
});

Deno.test("formatSpanTree says when nothing changed", () => {
  const idle: TreeSpan = {
    ...root,
    events: [{ name: "status unchanged" }],
    attributes: { ...root.attributes, "mysql.outcome": "unchanged" },
  };
  assert.match(formatSpanTree(idle, [idle]), /\n {2}changed: nothing$/);
});
