/**
 * What an identity must be allowed and refused, derived from the
 * permission table, and the apiserver's own answer for one request
 * (SelfSubjectAccessReview, what `kubectl auth can-i` asks).
 *
 * @module
 */

import {
  ALL_VERBS,
  type Permission,
  type Verb,
} from "../../lib/kube/permissions.ts";
import type { KubeHttp } from "../../lib/kube/http.ts";

/** A request to authorize (namespace `""`: all namespaces; `path`: a non-resource URL). */
export interface Attributes {
  group: string;
  resource: string;
  subresource?: string;
  verb: Verb;
  namespace: string;
  path?: string;
}

/** Requests that must be refused whatever the table says. */
const ALWAYS_REFUSED: Omit<Attributes, "namespace">[] = [
  { group: "", resource: "pods", subresource: "exec", verb: "create" },
  {
    group: "",
    resource: "serviceaccounts",
    subresource: "token",
    verb: "create",
  },
  {
    group: "rbac.authorization.k8s.io",
    resource: "clusterrolebindings",
    verb: "create",
  },
  {
    group: "rbac.authorization.k8s.io",
    resource: "clusterroles",
    verb: "update",
  },
];

function split(resource: string): { resource: string; subresource?: string } {
  const [name, sub] = resource.split("/");
  return sub ? { resource: name!, subresource: sub } : { resource: name! };
}

/**
 * The table's permissions (in `namespace`; lists across all namespaces) as
 * what must be allowed, and every other verb on the same resources — in
 * `namespace`, in each of `elsewhere` and across all namespaces — plus a
 * few dangerous requests as what must be refused.
 */
export function rbacChecks(
  table: readonly Permission[],
  scope: { namespace: string; elsewhere: string[] },
): { allowed: Attributes[]; denied: Attributes[] } {
  const allowed: Attributes[] = table.map((p) =>
    p.nonResourceURL !== undefined
      ? {
        group: "",
        resource: "",
        verb: p.verb,
        namespace: "",
        path: p.nonResourceURL,
      }
      : {
        group: p.group,
        ...split(p.resource),
        verb: p.verb,
        namespace: p.verb === "list" ? "" : scope.namespace,
      }
  );
  const resources = new Map<string, Permission[]>();
  for (const p of table.filter((p) => p.nonResourceURL === undefined)) {
    const key = `${p.group}|${p.resource}`;
    resources.set(key, [...(resources.get(key) ?? []), p]);
  }
  const namespaces = [scope.namespace, ...scope.elsewhere, ""];
  const denied: Attributes[] = [];
  for (const entries of resources.values()) {
    const granted = new Set(entries.map((e) => e.verb));
    for (const verb of ALL_VERBS.filter((v) => !granted.has(v))) {
      for (const namespace of namespaces) {
        denied.push({
          group: entries[0]!.group,
          ...split(entries[0]!.resource),
          verb,
          namespace,
        });
      }
    }
  }
  for (const request of ALWAYS_REFUSED) {
    for (const namespace of namespaces) denied.push({ ...request, namespace });
  }
  return { allowed, denied };
}

/** `verb group/resource[/sub] in namespace` for messages. */
export function describe(a: Attributes): string {
  if (a.path !== undefined) return `${a.verb} ${a.path}`;
  const resource = `${a.group || "core"}/${a.resource}${
    a.subresource ? `/${a.subresource}` : ""
  }`;
  return `${a.verb} ${resource} in ${a.namespace || "all namespaces"}`;
}

/** Whether the identity behind `kube` may make the request. */
export async function canDo(
  kube: KubeHttp,
  attributes: Attributes,
): Promise<boolean> {
  const review = await kube.request<{ status?: { allowed?: boolean } }>(
    "POST",
    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    {
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: attributes.path !== undefined
          ? {
            nonResourceAttributes: {
              path: attributes.path,
              verb: attributes.verb,
            },
          }
          : { resourceAttributes: attributes },
      },
    },
  );
  return review.status?.allowed === true;
}
