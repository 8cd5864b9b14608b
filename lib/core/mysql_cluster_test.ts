import assert from "node:assert/strict";
import { SPEC_KEYS, STATUS_KEYS } from "./mysql_cluster.ts";
import {
  MYSQL_CLUSTER_SCHEMA,
  SPEC_FIELDS,
  STATUS_FIELDS,
} from "./mysql_cluster_schema.ts";

Deno.test("MySQLClusterSpec type has exactly the schema's spec fields", () => {
  assert.deepEqual(Object.keys(SPEC_KEYS).sort(), [...SPEC_FIELDS].sort());
});

Deno.test("MySQLClusterStatus type has exactly the schema's status fields", () => {
  assert.deepEqual(Object.keys(STATUS_KEYS).sort(), [...STATUS_FIELDS].sort());
});

function undescribed(schema: Record<string, unknown>, path: string): string[] {
  const missing = typeof schema.description === "string" && schema.description
    ? []
    : [path];
  const properties = (schema.properties ?? {}) as Record<
    string,
    Record<string, unknown>
  >;
  for (const [name, child] of Object.entries(properties)) {
    if (path === "mysqlcluster" && name === "metadata") continue; // the apiserver's own
    missing.push(...undescribed(child, `${path}.${name}`));
  }
  const items = schema.items as Record<string, unknown> | undefined;
  if (items) missing.push(...undescribed(items, `${path}[]`));
  return missing;
}

Deno.test("MySQLCluster schema describes every field (kubectl explain teaches the API)", () => {
  assert.deepEqual(undescribed(MYSQL_CLUSTER_SCHEMA, "mysqlcluster"), []);
});
