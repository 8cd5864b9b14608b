/**
 * Validation of a cluster's spec and status in the core. The CRD refuses bad
 * specs at the apiserver; this catches what slipped past it (an older CRD, a
 * schema-less copy) so the cluster reports `Invalid` instead of failing a
 * write. The rules come from the schema itself (`schema_rules.ts`): what the
 * CRD refuses for `spec`, `checkSpec` refuses, except the transition rules,
 * which need the previous state and are `checkTransition`'s.
 *
 * @module
 */

import {
  DEFAULTS,
  DNS_LABEL_PATTERN,
  DNS_SUBDOMAIN_PATTERN,
  MYSQL_CLUSTER_SCHEMA,
  type Schema,
  VERSION_PATTERN,
} from "./mysql_cluster_schema.ts";
import type {
  Condition,
  DeletionPolicy,
  MySQLCluster,
  MySQLClusterStatus,
} from "./mysql_cluster.ts";
import { isRecord } from "./objects.ts";
import {
  parseQuantity,
  type Quantity,
  QUANTITY_PATTERN,
  quantityString,
} from "./quantity.ts";
import { nodeRules, type SchemaRule, schemaRules } from "./schema_rules.ts";

/** A spec with every default applied. */
export interface EffectiveSpec {
  /** MySQL version. */
  version: string;
  /** Number of pods. */
  replicas: number;
  /** Size of each data volume. */
  storageSize: Quantity;
  /** CPU and memory of each MySQL container. */
  resources: { cpu: Quantity; memory: Quantity };
  /** StorageClass of the data volumes, when set. */
  storageClassName?: string;
  /** Retain or Delete. */
  deletionPolicy: DeletionPolicy;
}

/** Either the effective spec or the reasons it is invalid. */
export type SpecCheck =
  | { ok: true; spec: EffectiveSpec }
  | { ok: false; problems: string[] };

/** The rules of `spec`, read once from the schema. */
const SPEC_RULES = schemaRules(MYSQL_CLUSTER_SCHEMA);

/**
 * Applies defaults and checks every rule the schema states for `spec`
 * (types, patterns, lengths, bounds, enums, required and unknown fields;
 * quantities must also be positive); lists every problem found, each
 * starting with the field's path. The transition rules are left to
 * {@link checkTransition}.
 */
export function checkSpec(cluster: MySQLCluster): SpecCheck {
  // the apiserver prunes nulls of non-nullable fields before defaulting
  const spec = withDefaults(withoutNulls(cluster.spec ?? {}));
  const problems = problemsOf(SPEC_RULES, { spec });
  if (problems.length > 0) return { ok: false, problems };
  const valid = spec as Required<EffectiveSpec>;
  const effective: EffectiveSpec = {
    version: valid.version,
    replicas: valid.replicas,
    storageSize: valid.storageSize,
    resources: { cpu: valid.resources.cpu, memory: valid.resources.memory },
    deletionPolicy: valid.deletionPolicy,
  };
  if (valid.storageClassName !== undefined) {
    effective.storageClassName = valid.storageClassName;
  }
  return { ok: true, spec: effective };
}

/**
 * The schema's transition rules (`x-kubernetes-validations` on `oldSelf`),
 * checked against what the running cluster was created with: `storageSize`
 * cannot shrink below the volumes' size, `deletionPolicy` cannot change.
 * A field not observed (or not comparable) is not checked. Lists every
 * problem, each starting with the field's path.
 */
export function checkTransition(
  spec: EffectiveSpec,
  running: { storageSize?: string; deletionPolicy?: string },
): string[] {
  const problems: string[] = [];
  if (running.storageSize !== undefined) {
    const wanted = parseQuantity(spec.storageSize);
    const created = parseQuantity(running.storageSize);
    if (wanted !== undefined && created !== undefined && wanted < created) {
      problems.push(
        `spec.storageSize ${
          quantityString(spec.storageSize)
        } is smaller than the ${running.storageSize} the volumes were created with: volumes can only grow`,
      );
    }
  }
  if (
    running.deletionPolicy !== undefined &&
    running.deletionPolicy !== spec.deletionPolicy
  ) {
    problems.push(
      `spec.deletionPolicy ${spec.deletionPolicy} differs from ${running.deletionPolicy}, fixed at creation`,
    );
  }
  return problems;
}

const STATUS_PROPERTIES = propertiesOf(
  propertiesOf(MYSQL_CLUSTER_SCHEMA).status,
);
const CONDITION_SCHEMA = STATUS_PROPERTIES.conditions?.items as Schema;
const CONDITION_FIELDS = Object.keys(propertiesOf(CONDITION_SCHEMA));
const CONDITION_RULES = nodeRules(CONDITION_SCHEMA, "condition");
/** The rules of each status field but the conditions, read once. */
const STATUS_FIELD_RULES: [string, SchemaRule[]][] = Object.entries(
  STATUS_PROPERTIES,
)
  .filter(([name]) => name !== "conditions")
  .map(([name, node]) => [name, nodeRules(node, `status.${name}`)]);

/**
 * The status as read from an object that may have bypassed the schema:
 * only the fields that fit the status schema (integers, phases, date-times,
 * conditions shaped like metav1.Condition…); the others are dropped, as are
 * malformed conditions, unknown condition fields and repeated condition
 * types. Never throws.
 */
export function validStatus(status: unknown): MySQLClusterStatus {
  const kept: Record<string, unknown> = {};
  if (!isRecord(status)) return kept;
  for (const [name, rules] of STATUS_FIELD_RULES) {
    const value = status[name];
    if (value === undefined || value === null) continue;
    if (problemsOf(rules, { status: { [name]: value } }).length === 0) {
      kept[name] = value;
    }
  }
  if (Array.isArray(status.conditions)) {
    const conditions: Condition[] = [];
    for (const item of status.conditions) {
      if (!isRecord(item)) continue;
      const condition: Record<string, unknown> = {};
      for (const field of CONDITION_FIELDS) {
        if (item[field] !== undefined && item[field] !== null) {
          condition[field] = item[field];
        }
      }
      if (
        problemsOf(CONDITION_RULES, { condition }).length === 0 &&
        !conditions.some((c) => c.type === condition.type)
      ) {
        conditions.push(condition as unknown as Condition);
      }
    }
    kept.conditions = conditions;
  }
  return kept as MySQLClusterStatus;
}

/** What a known pattern means, for problems a user can act on. */
const PATTERN_MEANINGS: Record<string, string> = {
  [VERSION_PATTERN]: 'is not a MySQL version like "8.4"',
  [QUANTITY_PATTERN]: 'is not a positive quantity like "10Gi"',
  [DNS_SUBDOMAIN_PATTERN]:
    'is not a DNS subdomain (lowercase letters, digits, "-" and ".", starting and ending with a letter or digit)',
  [DNS_LABEL_PATTERN]:
    'is not a DNS label (lowercase letters, digits and "-", starting and ending with a letter or digit)',
};
const FORMAT_BITS: Record<string, number> = { int32: 31, int64: 63 };
const DATE_TIME =
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$/;

/**
 * The problems of the values under `root` against `rules`, in rule order.
 * A value of the wrong type (or format) gets one problem; the other rules
 * of that value and those below it are skipped.
 */
function problemsOf(
  rules: readonly SchemaRule[],
  root: Record<string, unknown>,
): string[] {
  const problems: string[] = [];
  const mistyped: string[] = [];
  for (const rule of rules) {
    if (
      mistyped.some((p) => rule.path === p || rule.path.startsWith(`${p}.`))
    ) {
      continue;
    }
    const segments = rule.path.split(".");
    const name = segments.pop()!;
    let parent: unknown = root;
    for (const segment of segments) {
      parent = isRecord(parent) ? parent[segment] : undefined;
    }
    if (!isRecord(parent)) continue; // the parent's own rules tell
    const value = parent[name];
    if (value === undefined) {
      if (rule.rule === "required") problems.push(`${rule.path} is required`);
      continue;
    }
    const problem = ruleProblem(rule, value, rules);
    if (problem === undefined) continue;
    problems.push(problem);
    if (
      rule.rule === "type" || rule.rule === "int-or-string" ||
      rule.rule === "format"
    ) {
      mistyped.push(rule.path);
    }
  }
  return problems;
}

/**
 * What is wrong with a present value under one rule, starting with the
 * field's path (undefined: nothing).
 */
function ruleProblem(
  { path, rule, value: expected }: SchemaRule,
  value: unknown,
  rules: readonly SchemaRule[],
): string | undefined {
  const it = `${path} ${show(value)}`;
  switch (rule) {
    case "type":
      return hasType(value, expected as string)
        ? undefined
        : `${it} is not ${
          /^[aeiou]/.test(expected as string) ? "an" : "a"
        } ${expected}`;
    case "format":
      if (expected === "date-time") {
        return typeof value !== "string" || DATE_TIME.test(value)
          ? undefined
          : `${it} is not an RFC 3339 date-time`;
      } else {
        const bits = FORMAT_BITS[expected as string]!;
        return typeof value !== "number" ||
            (value >= -(2 ** bits) && value < 2 ** bits)
          ? undefined
          : `${it} does not fit in ${expected}`;
      }
    case "int-or-string":
      return Number.isInteger(value) || typeof value === "string"
        ? undefined
        : `${it} is neither an integer nor a string`;
    case "enum": {
      const allowed = expected as unknown[];
      if (allowed.includes(value)) return undefined;
      const names = allowed.map(String);
      return names.length === 2
        ? `${it} is neither ${names[0]} nor ${names[1]}`
        : `${it} is not one of ${names.join(", ")}`;
    }
    case "minimum":
    case "maximum": {
      if (typeof value !== "number") return undefined;
      const bound = (kind: string) =>
        rules.find((r) => r.path === path && r.rule === kind)?.value as
          | number
          | undefined;
      const [min, max] = [bound("minimum"), bound("maximum")];
      if (rule === "minimum" ? value >= min! : value <= max!) return undefined;
      if (min !== undefined && max !== undefined) {
        return `${it} is not between ${min} and ${max}`;
      }
      return rule === "minimum"
        ? `${it} is less than ${min}`
        : `${it} is more than ${max}`;
    }
    case "minLength":
    case "maxLength": {
      if (typeof value !== "string") return undefined;
      const length = [...value].length;
      if (rule === "minLength") {
        return length >= (expected as number)
          ? undefined
          : `${it} is shorter than ${expected} characters`;
      }
      return length <= (expected as number)
        ? undefined
        : `${it} is longer than ${expected} characters`;
    }
    case "pattern": {
      if (expected === QUANTITY_PATTERN) {
        // beyond the schema: integers must be positive too, and so must
        // strings ("0" is no size for a volume)
        if (typeof value !== "string" && typeof value !== "number") {
          return undefined;
        }
        const amount = parseQuantity(value);
        return amount !== undefined && amount > 0
          ? undefined
          : `${it} ${PATTERN_MEANINGS[QUANTITY_PATTERN]}`;
      }
      if (typeof value !== "string") return undefined; // strings only
      const meaning = PATTERN_MEANINGS[expected as string] ??
        `does not match ${expected}`;
      return new RegExp(expected as string).test(value)
        ? undefined
        : `${it} ${meaning}`;
    }
    case "required":
      return undefined; // present
    case "properties": {
      if (!isRecord(value)) return undefined;
      const known = expected as string[];
      const unknown = Object.keys(value).filter((key) => !known.includes(key));
      if (unknown.length === 0) return undefined;
      const fields = unknown.map((key) => `${path}.${key}`).join(", ");
      const verb = unknown.length === 1 ? "is not a field" : "are not fields";
      return `${fields} ${verb} of ${path} (its fields: ${known.join(", ")})`;
    }
    default:
      // x-kubernetes-validations: the schema's CEL rules compare with the
      // previous object (oldSelf), which checkTransition does; the tests
      // demand a failing case for any other, so it cannot go unchecked
      return undefined;
  }
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "object":
      return isRecord(value);
    case "string":
      return typeof value === "string";
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    default:
      return false;
  }
}

/** A value for a problem: JSON, cut short when long. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** A copy without the null-valued fields, at every depth. */
function withoutNulls(value: unknown): unknown {
  if (!isRecord(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field !== null) copy[key] = withoutNulls(field);
  }
  return copy;
}

/** The spec with the schema's defaults where fields are absent. */
function withDefaults(spec: unknown): unknown {
  if (!isRecord(spec)) return spec;
  return {
    ...spec,
    replicas: spec.replicas ?? DEFAULTS.replicas,
    resources: spec.resources ?? { ...DEFAULTS.resources },
    deletionPolicy: spec.deletionPolicy ?? DEFAULTS.deletionPolicy,
  };
}

function propertiesOf(schema: unknown): Record<string, Schema> {
  const properties = isRecord(schema) ? schema.properties : undefined;
  return (isRecord(properties) ? properties : {}) as Record<string, Schema>;
}
