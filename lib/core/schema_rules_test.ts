import assert from "node:assert/strict";
import type { Schema } from "./mysql_cluster_schema.ts";
import { nodeRules, schemaRules } from "./schema_rules.ts";

/** A whole-object schema whose spec has the given properties. */
function planted(properties: Schema, spec: Schema = {}): Schema {
  return {
    type: "object",
    properties: { spec: { type: "object", properties, ...spec } },
  };
}

Deno.test("schemaRules lists one entry per constraining keyword, per required field", () => {
  const rules = schemaRules(planted({
    count: {
      description: "a count",
      type: "integer",
      format: "int32",
      minimum: 1,
      default: 1,
    },
    size: {
      anyOf: [{ type: "integer" }, { type: "string" }],
      "x-kubernetes-int-or-string": true,
      pattern: "^[0-9]+$",
      "x-kubernetes-validations": [{ rule: "self == oldSelf" }],
    },
  }, { required: ["count", "size"] }));
  assert.deepEqual(rules, [
    { path: "spec", rule: "type", value: "object" },
    { path: "spec.count", rule: "required", value: true },
    { path: "spec.size", rule: "required", value: true },
    { path: "spec", rule: "properties", value: ["count", "size"] },
    { path: "spec.count", rule: "type", value: "integer" },
    { path: "spec.count", rule: "format", value: "int32" },
    { path: "spec.count", rule: "minimum", value: 1 },
    { path: "spec.size", rule: "int-or-string", value: true },
    { path: "spec.size", rule: "pattern", value: "^[0-9]+$" },
    {
      path: "spec.size",
      rule: "x-kubernetes-validations:0",
      value: { rule: "self == oldSelf" },
    },
  ]);
});

Deno.test("schemaRules throws on an unknown keyword, naming it and its field", () => {
  assert.throws(
    () =>
      schemaRules(
        planted({ version: { type: "string", exclusiveMaximum: 3 } }),
      ),
    /spec\.version: keyword exclusiveMaximum is not understood/,
  );
  assert.throws(
    () => schemaRules(planted({}, { additionalProperties: false })),
    /spec: keyword additionalProperties/,
  );
});

Deno.test("schemaRules throws on what it cannot read", () => {
  const refused: [Schema, RegExp][] = [
    [planted({ a: { type: "array" } }), /type "array" is not understood/],
    [planted({ a: { type: "string", format: "email" } }), /format "email"/],
    [planted({ a: { type: "string", format: "int32" } }), /needs type integer/],
    [planted({ a: { anyOf: [{ type: "string" }] } }), /anyOf/],
    [planted({}, { required: ["missing"] }), /"missing" is not a property/],
    [planted({ a: { type: "string", pattern: "(" } }), /does not compile/],
    [planted({ a: { type: "string", enum: [] } }), /enum/],
    [planted({ a: { type: "integer", maximum: "9" } }), /maximum/],
    [planted({ a: { type: "object" } }), /without properties/],
    [
      planted({
        a: { type: "string", "x-kubernetes-validations": [{ rul: 1 }] },
      }),
      /x-kubernetes-validations\[0\]/,
    ],
    [{ properties: {} }, /no properties\.spec/],
  ];
  for (const [schema, error] of refused) {
    assert.throws(() => schemaRules(schema), error);
  }
});

Deno.test("nodeRules reads any node, at the path given", () => {
  assert.deepEqual(
    nodeRules({ type: "string", format: "date-time" }, "status.lastUpdate"),
    [
      { path: "status.lastUpdate", rule: "type", value: "string" },
      { path: "status.lastUpdate", rule: "format", value: "date-time" },
    ],
  );
});
