/**
 * `knative/base/rbac.yaml`, generated: the function's ClusterRole is the
 * permission table that the API calls declare (`lib/kube/api.ts`), one
 * rule per group and set of verbs, each commented with why; beside it the
 * sources' read-only role, the bindings and the aggregated roles for the
 * clusters' users. `deno task manifests` writes it; a test fails when the
 * committed file drifts.
 *
 * @module
 */

import { Document, isMap, isSeq } from "yaml";
import { type ApiKind, KINDS } from "../core/kinds.ts";
import { permissionTable } from "../kube/api.ts";
import { ALL_VERBS, type Permission, type Verb } from "../kube/permissions.ts";

/** Where the generated RBAC lives, relative to the repository root. */
export const RBAC_PATH = "knative/base/rbac.yaml";
/** The namespace the function and its sources run in. */
export const OPERATOR_NAMESPACE = "mysql-operator";
/** The function's ServiceAccount. */
export const FUNCTION_ACCOUNT = "mysql-operator-fn";
/** The ApiServerSources' ServiceAccount. */
export const SOURCES_ACCOUNT = "mysql-operator-sources";
/** What the ApiServerSources watch (they need get, list and watch on each). */
export const SOURCE_KINDS: readonly ApiKind[] = [
  KINDS.MySQLCluster,
  KINDS.StatefulSet,
];

/** An RBAC PolicyRule, with the reasons its verbs are needed. */
export interface Rule {
  /** The API group (one per rule); none for non-resource URLs. */
  apiGroups?: string[];
  /** Its resources that need the same verbs. */
  resources?: string[];
  /** Non-resource URLs (OIDC discovery). */
  nonResourceURLs?: string[];
  /** The verbs. */
  verbs: Verb[];
  /** One line per resource: why each verb is needed. */
  why: string[];
}

/**
 * The function's rules from the permission table: the resources of one
 * group that need the same verbs share a rule, and so do non-resource URLs.
 */
export function functionRules(
  table: readonly Permission[] = permissionTable(),
): Rule[] {
  const byResource = new Map<string, Permission[]>();
  const urls: Permission[] = [];
  for (const permission of table) {
    if (permission.nonResourceURL !== undefined) {
      urls.push(permission);
      continue;
    }
    const key = `${permission.group}|${permission.resource}`;
    byResource.set(key, [...(byResource.get(key) ?? []), permission]);
  }
  const rules = new Map<string, Rule>();
  for (const entries of byResource.values()) {
    const { group, resource } = entries[0]!;
    const verbs = ALL_VERBS.filter((verb) =>
      entries.some((e) => e.verb === verb)
    );
    const key = `${group}|${verbs.join(",")}`;
    const rule = rules.get(key) ??
      { apiGroups: [group], resources: [], verbs, why: [] };
    rule.resources!.push(resource);
    rule.why.push(
      ...entries.map((e) => `${resource} ${e.verb}: ${e.why}`),
    );
    rules.set(key, rule);
  }
  const all = [...rules.values()];
  if (urls.length > 0) {
    all.push({
      nonResourceURLs: urls.map((u) => u.nonResourceURL!),
      verbs: ["get"],
      why: urls.map((u) => `${u.nonResourceURL} get: ${u.why}`),
    });
  }
  return all;
}

const LABELS = (name: string) => ({
  "app.kubernetes.io/name": name,
  "app.kubernetes.io/part-of": "mysql-operator",
});

function account(name: string): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, labels: LABELS(name) },
  };
}

function binding(name: string): Record<string, unknown> {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name, labels: LABELS(name) },
    roleRef: {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name,
    },
    subjects: [{
      kind: "ServiceAccount",
      name,
      namespace: OPERATOR_NAMESPACE,
    }],
  };
}

function role(
  name: string,
  rules: Omit<Rule, "why">[],
  labels: Record<string, string> = LABELS(name),
): Record<string, unknown> {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name, labels },
    rules: rules.map(({ apiGroups, resources, nonResourceURLs, verbs }) => ({
      ...(apiGroups ? { apiGroups } : {}),
      ...(resources ? { resources } : {}),
      ...(nonResourceURLs ? { nonResourceURLs } : {}),
      verbs,
    })),
  };
}

/** A YAML document with a comment before it and, optionally, before each rule. */
function document(
  object: Record<string, unknown>,
  comment?: string,
  ruleComments?: string[][],
): Document {
  const doc = new Document(object);
  if (comment) doc.commentBefore = comment;
  const rules = doc.get("rules", true);
  if (ruleComments && isSeq(rules)) {
    rules.items.forEach((item, i) => {
      if (isMap(item)) {
        item.commentBefore = (ruleComments[i] ?? []).map((l) => ` ${l}`).join(
          "\n",
        );
      }
    });
  }
  return doc;
}

/** The RBAC documents, in file order. */
function rbacDocuments(
  table: readonly Permission[] = permissionTable(),
): Document[] {
  const rules = functionRules(table);
  const cluster = KINDS.MySQLCluster;
  return [
    document(
      account(FUNCTION_ACCOUNT),
      " The function's identity. Cluster-wide: MySQLClusters may live in any\n" +
        " namespace. Its role is exactly the permission table of its API calls\n" +
        " (lib/kube/api.ts): it may create Secrets but never read, list or\n" +
        " change one; it never watches (events come from the sources).",
    ),
    document(role(FUNCTION_ACCOUNT, rules), undefined, rules.map((r) => r.why)),
    document(binding(FUNCTION_ACCOUNT)),
    document(
      account(SOURCES_ACCOUNT),
      " The ApiServerSources watch exactly what they send events about.",
    ),
    document(
      role(
        SOURCES_ACCOUNT,
        [
          ...new Set(SOURCE_KINDS.map((k) => k.group)),
        ].map((group) => ({
          apiGroups: [group],
          resources: SOURCE_KINDS.filter((k) => k.group === group).map((k) =>
            k.resource
          ),
          verbs: ["get", "list", "watch"],
        })),
      ),
    ),
    document(binding(SOURCES_ACCOUNT)),
    document(
      role(`${cluster.resource}-edit`, [{
        apiGroups: [cluster.group],
        resources: [cluster.resource, `${cluster.resource}/scale`],
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
      }], {
        "app.kubernetes.io/part-of": "mysql-operator",
        "rbac.authorization.k8s.io/aggregate-to-edit": "true",
        "rbac.authorization.k8s.io/aggregate-to-admin": "true",
      }),
      " For the cluster's users: the built-in edit/admin and view roles gain\n" +
        " MySQLClusters (aggregation), so namespace editors can manage theirs.",
    ),
    document(
      role(`${cluster.resource}-view`, [{
        apiGroups: [cluster.group],
        resources: [
          cluster.resource,
          `${cluster.resource}/status`,
          `${cluster.resource}/scale`,
        ],
        verbs: ["get", "list", "watch"],
      }], {
        "app.kubernetes.io/part-of": "mysql-operator",
        "rbac.authorization.k8s.io/aggregate-to-view": "true",
      }),
    ),
  ];
}

/** `knative/base/rbac.yaml` as committed. */
export function renderRbacYaml(): string {
  return "# Generated from the permission table (lib/kube/api.ts) by `deno task manifests`. Do not edit.\n" +
    rbacDocuments().map((doc) => doc.toString({ lineWidth: 0 })).join("---\n");
}
