/**
 * The permission table: every API call the function makes declares, next
 * to its code, the verb and resources it needs and why (as Kubebuilder's
 * RBAC markers do). The function's ClusterRole in `knative/base/rbac.yaml`
 * is generated from this table (`deno task manifests`; a test fails when
 * the committed file drifts), the end-to-end RBAC test derives what must be
 * allowed and refused from it, and {@linkcode KubeHttp} can refuse a call
 * that no entry declares before it leaves the process.
 *
 * @module
 */

import type { ApiKind } from "../core/kinds.ts";
import { compareStrings } from "../core/objects.ts";

/** A Kubernetes RBAC verb. */
export type Verb =
  | "get"
  | "list"
  | "watch"
  | "create"
  | "update"
  | "patch"
  | "delete";

/** Every RBAC verb a resource can be granted (for what must be refused). */
export const ALL_VERBS: readonly Verb[] = [
  "get",
  "list",
  "watch",
  "create",
  "update",
  "patch",
  "delete",
];

/** One permission the function needs. */
export interface Permission {
  /** API group (`""` for the core group and for non-resource URLs). */
  group: string;
  /** Resource, with its subresource when there is one (`mysqlclusters/status`); `""` for a non-resource URL. */
  resource: string;
  /** A non-resource URL (`/openid/v1/jwks`) instead of a resource. */
  nonResourceURL?: string;
  /** The verb. */
  verb: Verb;
  /** Why the function needs it. */
  why: string;
}

const declared: Permission[] = [];

/**
 * Declares that the call beside it needs `verb` on each of `kinds` (on
 * their `subresource` when given), and why. Returns the entries.
 */
export function needs(
  verb: Verb,
  kinds: readonly ApiKind[],
  why: string,
  subresource?: string,
): Permission[] {
  const entries = kinds.map((kind) => ({
    group: kind.group,
    resource: subresource ? `${kind.resource}/${subresource}` : kind.resource,
    verb,
    why,
  }));
  declared.push(...entries);
  return entries;
}

/** Declares that the call beside it GETs the non-resource URL `path`, and why. */
export function needsUrl(path: string, why: string): Permission[] {
  const entry: Permission = {
    group: "",
    resource: "",
    nonResourceURL: path,
    verb: "get",
    why,
  };
  declared.push(entry);
  return [entry];
}

/** Every declared permission, merged (one entry per group, resource and verb; whys joined). */
export function declaredPermissions(): Permission[] {
  const merged = new Map<string, Permission>();
  for (const entry of declared) {
    const key = `${entry.group}|${entry.resource}|${
      entry.nonResourceURL ?? ""
    }|${entry.verb}`;
    const found = merged.get(key);
    if (!found) merged.set(key, { ...entry });
    else if (!found.why.split("; ").includes(entry.why)) {
      found.why = `${found.why}; ${entry.why}`;
    }
  }
  return [...merged.values()].sort((a, b) =>
    compareStrings(a.group, b.group) ||
    compareStrings(a.resource, b.resource) ||
    compareStrings(a.nonResourceURL ?? "", b.nonResourceURL ?? "") ||
    ALL_VERBS.indexOf(a.verb) - ALL_VERBS.indexOf(b.verb)
  );
}

/** The verb a request needs: GET of a name is `get`, of a collection `list`, and so on. */
export function verbOf(method: string, named: boolean): Verb | undefined {
  switch (method) {
    case "GET":
      return named ? "get" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return "delete";
    default:
      return undefined;
  }
}

/** A set of permissions that answers "is this call declared?" quickly. */
export class PermissionSet {
  readonly #keys: Set<string>;

  /** Builds the set from table entries. */
  constructor(permissions: readonly Permission[]) {
    this.#keys = new Set(
      permissions.map((p) =>
        p.nonResourceURL !== undefined
          ? `url|${p.nonResourceURL}|${p.verb}`
          : `${p.group}|${p.resource}|${p.verb}`
      ),
    );
  }

  /** True when `verb` on `group`/`resource` is declared. */
  has(group: string, resource: string, verb: Verb): boolean {
    return this.#keys.has(`${group}|${resource}|${verb}`);
  }

  /** True when `verb` on the non-resource URL `path` is declared. */
  hasUrl(path: string, verb: Verb): boolean {
    return this.#keys.has(`url|${path}|${verb}`);
  }
}
