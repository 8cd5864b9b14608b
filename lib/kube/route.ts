/**
 * The route template of a Kubernetes API path, for span names and
 * attributes: names and namespaces become `{name}` / `{namespace}` so that
 * span names stay few (`GET /apis/apps/v1/namespaces/{namespace}/statefulsets/{name}`).
 *
 * @module
 */

/** A parsed Kubernetes API path. */
export interface KubeRoute {
  /** The path with `{namespace}` and `{name}` in place of the values. */
  template: string;
  /** The API group (`""` for the core group and for discovery paths). */
  group: string;
  /** The resource, e.g. `statefulsets` (empty for discovery paths). */
  resource: string;
  /** True when the path names one object (not a collection). */
  named: boolean;
  /** The subresource, e.g. `status`. */
  subresource?: string;
}

const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

/** Parses `path` (query string ignored). Unknown shapes keep their path. */
export function kubeRoute(path: string): KubeRoute {
  const clean = path.split("?")[0] ?? "";
  const parts = clean.split("/").filter((p) => p !== "");
  let prefix: string[];
  if (parts[0] === "api" && parts.length >= 2) prefix = parts.slice(0, 2);
  else if (parts[0] === "apis" && parts.length >= 3) {
    prefix = parts.slice(0, 3);
  } else {
    return { template: clean || "/", group: "", resource: "", named: false };
  }
  let rest = parts.slice(prefix.length);
  const out = [...prefix];
  if (
    rest[0] === "namespaces" && rest.length >= 3 &&
    !NAMESPACE_SUBRESOURCES.has(rest[2]!)
  ) {
    out.push("namespaces", "{namespace}");
    rest = rest.slice(2);
  }
  const [resource = "", name, subresource] = rest;
  if (resource) out.push(resource);
  if (name !== undefined) out.push("{name}");
  if (subresource !== undefined) out.push(...rest.slice(2));
  const route: KubeRoute = {
    template: `/${out.join("/")}`,
    group: parts[0] === "apis" ? parts[1]! : "",
    resource,
    named: name !== undefined,
  };
  if (subresource !== undefined) route.subresource = rest.slice(2).join("/");
  return route;
}
