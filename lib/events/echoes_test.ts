import assert from "node:assert/strict";
import { EchoRecord } from "./echoes.ts";

Deno.test("EchoRecord knows an object at the version a pass left it at", () => {
  const echoes = new EchoRecord();
  echoes.record("shop/db", {
    "MySQLCluster/db": ["10", "12"],
    "StatefulSet/db": ["9"],
  });
  assert.ok(
    echoes.isEcho("shop/db", { key: "StatefulSet/db", resourceVersion: "9" }),
  );
  assert.ok(
    echoes.isEcho("shop/db", { key: "MySQLCluster/db", resourceVersion: "12" }),
  );
  assert.ok(
    !echoes.isEcho("shop/db", {
      key: "MySQLCluster/db",
      resourceVersion: "13",
    }),
  );
  assert.ok(
    !echoes.isEcho("shop/db", { key: "Service/db", resourceVersion: "9" }),
  );
  assert.ok(
    !echoes.isEcho("shop/other", {
      key: "MySQLCluster/db",
      resourceVersion: "12",
    }),
  );
});

Deno.test("EchoRecord keeps only the last pass and forgets a failed one", () => {
  const echoes = new EchoRecord();
  echoes.record("shop/db", { "MySQLCluster/db": ["12"] });
  echoes.record("shop/db", { "MySQLCluster/db": ["14"] });
  assert.ok(
    !echoes.isEcho("shop/db", {
      key: "MySQLCluster/db",
      resourceVersion: "12",
    }),
  );
  echoes.forget("shop/db");
  assert.ok(
    !echoes.isEcho("shop/db", {
      key: "MySQLCluster/db",
      resourceVersion: "14",
    }),
  );
});

Deno.test("EchoRecord stays bounded, dropping the oldest cluster", () => {
  const echoes = new EchoRecord(100);
  for (let i = 0; i < 1000; i++) {
    echoes.record(`ns/c${i}`, { "MySQLCluster/c": ["1"] });
  }
  assert.equal(echoes.size, 100);
  assert.ok(
    !echoes.isEcho("ns/c0", { key: "MySQLCluster/c", resourceVersion: "1" }),
  );
  assert.ok(
    echoes.isEcho("ns/c999", { key: "MySQLCluster/c", resourceVersion: "1" }),
  );
});
