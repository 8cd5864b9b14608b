/**
 * The validation rules an OpenAPI v3 schema states, as a flat list: one entry
 * per keyword that constrains a value. `validate.ts` checks specs against
 * this list, and its tests demand a failing case for every entry, so a rule
 * added to `mysql_cluster_schema.ts` cannot go unchecked. A keyword the walker
 * does not understand throws: a new kind of rule cannot slip by silently.
 *
 * @module
 */

import type { Schema } from "./mysql_cluster_schema.ts";
import { isRecord } from "./objects.ts";

/** The kinds of rule a schema states. */
export type RuleKind =
  | "type"
  | "format"
  | "int-or-string"
  | "enum"
  | "minimum"
  | "maximum"
  | "minLength"
  | "maxLength"
  | "pattern"
  | "required"
  | "properties"
  | `x-kubernetes-validations:${number}`;

/** One validation rule of a schema. */
export interface SchemaRule {
  /** Dotted path of the constrained field, e.g. `spec.resources.cpu`. */
  path: string;
  /**
   * The keyword. `required` is listed once per required field, at that
   * field's path; `properties` means the object has no other fields (a
   * structural schema prunes or refuses unknown ones); `int-or-string` is
   * `x-kubernetes-int-or-string` with its `anyOf`; a CEL rule is
   * `x-kubernetes-validations:<index>`.
   */
  rule: RuleKind;
  /**
   * The keyword's value: the type, format, pattern, bound or enum; `true`
   * for `required` and `int-or-string`; the field names for `properties`;
   * the whole entry (`rule`, `message`, …) for a CEL rule.
   */
  value: unknown;
}

/** Keywords that describe without constraining. */
const ANNOTATIONS = new Set(["description", "default"]);
/** Constraining keywords, in the order their rules are listed. */
const KEYWORDS = [
  "type",
  "format",
  "x-kubernetes-int-or-string",
  "anyOf",
  "enum",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "required",
  "properties",
  "x-kubernetes-validations",
] as const;
const TYPES = new Set(["object", "string", "integer", "number", "boolean"]);
const FORMATS: Record<string, string> = {
  int32: "integer",
  int64: "integer",
  "date-time": "string",
};
const CEL_KEYS = new Set([
  "rule",
  "message",
  "messageExpression",
  "reason",
  "fieldPath",
  "optionalOldSelf",
]);
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * Every validation rule the schema states for `spec`, in schema order.
 * Throws on anything it does not understand (an unknown keyword, type or
 * format, an `anyOf` other than int-or-string's, a malformed value).
 *
 * @example
 * ```ts
 * import { MYSQL_CLUSTER_SCHEMA } from "./mysql_cluster_schema.ts";
 * schemaRules(MYSQL_CLUSTER_SCHEMA).find((r) => r.path === "spec.version");
 * // { path: "spec.version", rule: "type", value: "string" }
 * ```
 */
export function schemaRules(schema: Schema): SchemaRule[] {
  const properties = schema.properties;
  if (!isRecord(properties) || !("spec" in properties)) {
    throw new Error("schemaRules: the schema has no properties.spec");
  }
  return nodeRules(properties.spec, "spec");
}

/**
 * Every validation rule of one schema node whose value sits at `path`, in
 * schema order. Throws, like {@link schemaRules}, on what it does not
 * understand.
 */
export function nodeRules(node: unknown, path: string): SchemaRule[] {
  const rules: SchemaRule[] = [];
  walk(node, path, rules);
  return rules;
}

function walk(node: unknown, path: string, rules: SchemaRule[]): void {
  const fail = (what: string): never => {
    throw new Error(`schemaRules: ${path}: ${what}`);
  };
  if (!isRecord(node)) return fail("the schema is not an object");
  for (const key of Object.keys(node)) {
    if (
      !ANNOTATIONS.has(key) && !(KEYWORDS as readonly string[]).includes(key)
    ) {
      fail(`keyword ${key} is not understood`);
    }
  }
  if (node.description !== undefined && typeof node.description !== "string") {
    fail("description is not a string");
  }
  const push = (rule: RuleKind, value: unknown, at = path) =>
    rules.push({ path: at, rule, value });
  for (const key of KEYWORDS) {
    if (!(key in node)) continue;
    const value = node[key];
    switch (key) {
      case "type":
        if (typeof value !== "string" || !TYPES.has(value)) {
          fail(`type ${JSON.stringify(value)} is not understood`);
        }
        if (value === "object" && !("properties" in node)) {
          fail("an object without properties is not understood");
        }
        push("type", value);
        break;
      case "format":
        if (typeof value !== "string" || !(value in FORMATS)) {
          fail(`format ${JSON.stringify(value)} is not understood`);
        }
        if (node.type !== FORMATS[value as string]) {
          fail(`format ${value} needs type ${FORMATS[value as string]}`);
        }
        push("format", value);
        break;
      case "x-kubernetes-int-or-string":
        if (value !== true) fail("x-kubernetes-int-or-string is not true");
        if ("type" in node) fail("x-kubernetes-int-or-string with a type");
        push("int-or-string", true);
        break;
      case "anyOf":
        if (
          node["x-kubernetes-int-or-string"] !== true ||
          JSON.stringify(value) !==
            JSON.stringify([{ type: "integer" }, { type: "string" }])
        ) {
          fail("anyOf is understood only as int-or-string's");
        }
        break; // part of the int-or-string rule
      case "enum":
        if (!Array.isArray(value) || value.length === 0) {
          fail("enum is not a non-empty array");
        }
        push("enum", value);
        break;
      case "minimum":
      case "maximum":
        if (typeof value !== "number" || !Number.isFinite(value)) {
          fail(`${key} is not a number`);
        }
        push(key, value);
        break;
      case "minLength":
      case "maxLength":
        if (!Number.isInteger(value) || (value as number) < 0) {
          fail(`${key} is not a non-negative integer`);
        }
        push(key, value);
        break;
      case "pattern":
        if (typeof value !== "string") fail("pattern is not a string");
        try {
          new RegExp(value as string);
        } catch {
          fail(`pattern ${JSON.stringify(value)} does not compile`);
        }
        push("pattern", value);
        break;
      case "required": {
        const properties = isRecord(node.properties) ? node.properties : {};
        if (!Array.isArray(value)) fail("required is not an array");
        for (const field of value as unknown[]) {
          if (typeof field !== "string" || !(field in properties)) {
            fail(`required field ${JSON.stringify(field)} is not a property`);
          }
          push("required", true, `${path}.${field}`);
        }
        break;
      }
      case "properties":
        if (!isRecord(value)) fail("properties is not an object");
        if (node.type !== "object") fail("properties without type object");
        push("properties", Object.keys(value as Schema));
        for (const [name, child] of Object.entries(value as Schema)) {
          if (!FIELD_NAME.test(name)) {
            fail(`field name ${JSON.stringify(name)} is not understood`);
          }
          walk(child, `${path}.${name}`, rules);
        }
        break;
      case "x-kubernetes-validations":
        if (!Array.isArray(value)) {
          fail("x-kubernetes-validations is not an array");
        }
        (value as unknown[]).forEach((entry, index) => {
          if (
            !isRecord(entry) || typeof entry.rule !== "string" ||
            Object.keys(entry).some((k) => !CEL_KEYS.has(k))
          ) {
            fail(`x-kubernetes-validations[${index}] is not understood`);
          }
          push(`x-kubernetes-validations:${index}`, entry);
        });
        break;
    }
  }
}
