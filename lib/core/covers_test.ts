import assert from "node:assert/strict";
import { covers, difference } from "./covers.ts";

Deno.test("covers accepts fields the apiserver added", () => {
  assert.ok(covers(
    {
      spec: {
        replicas: 3,
        revisionHistoryLimit: 10,
        ports: [{ port: 3306, protocol: "TCP" }],
      },
    },
    { spec: { replicas: 3, ports: [{ port: 3306 }] } },
  ));
});

Deno.test("covers refuses a changed, missing or extra element", () => {
  assert.ok(!covers({ spec: { replicas: 1 } }, { spec: { replicas: 3 } }));
  assert.ok(!covers({ spec: {} }, { spec: { replicas: 3 } }));
  assert.ok(!covers({ a: [1] }, { a: [1, 2] }));
  assert.ok(!covers({ a: [1, 2] }, { a: [1] }));
  assert.ok(!covers({ a: "3" }, { a: 3 }));
  assert.ok(!covers({ a: [] }, { a: {} }));
});

Deno.test("difference names the first field that differs", () => {
  assert.equal(
    difference({ spec: { replicas: 1, a: 1 } }, { spec: { replicas: 3 } }),
    "spec.replicas",
  );
  assert.equal(
    difference({ spec: { ports: [{ port: 1 }] } }, {
      spec: { ports: [{ port: 2 }] },
    }),
    "spec.ports[0].port",
  );
  assert.equal(difference(undefined, { a: 1 }), "(object)");
  assert.equal(difference({ a: 1, b: 2 }, { a: 1 }), undefined);
});
