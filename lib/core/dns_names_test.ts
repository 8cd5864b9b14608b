import assert from "node:assert/strict";
import { isDnsLabel, isDnsSubdomain } from "./dns_names.ts";

const HOSTILE = [
  "",
  "..",
  ".",
  "%2e%2e",
  "a/b",
  "../kube-system",
  "db?x=1",
  "db#frag",
  "DB",
  "db_1",
  "-db",
  "db-",
  " db",
  "db\n",
  "db%2F..",
];

Deno.test("isDnsLabel accepts namespaces and refuses what could walk out of a path", () => {
  for (const ok of ["shop", "a", "kube-system", "a1-b2", "x".repeat(63)]) {
    assert.ok(isDnsLabel(ok), ok);
  }
  for (const bad of [...HOSTILE, "a.b", "x".repeat(64)]) {
    assert.ok(!isDnsLabel(bad), String(bad));
  }
});

Deno.test("isDnsSubdomain accepts object names and refuses what could walk out of a path", () => {
  for (const ok of ["db", "db-0.db", "a.b.c", "x".repeat(253)]) {
    assert.ok(isDnsSubdomain(ok), ok);
  }
  for (const bad of [...HOSTILE, "a..b", ".a", "a.", "x".repeat(254)]) {
    assert.ok(!isDnsSubdomain(bad), String(bad));
  }
});
