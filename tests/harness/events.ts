/**
 * The CloudEvents the function receives, built the way their senders build
 * them: the ApiServerSource adapter in Resource mode (type, source = the
 * apiserver, subject = the object's path, the `kind`/`name`/`namespace`/
 * `apiversion` extensions, the object as data) and the PingSource. Sent in
 * binary or structured content mode. Used by tests, benchmarks and
 * `deno task event`.
 *
 * @module
 */

import { CloudEvent, HTTP } from "cloudevents";

/** The ApiServerSource verbs. */
export type ResourceVerb = "add" | "update" | "delete";

/** The PingSource the resync events come from (as in knative/). */
export const RESYNC_SOURCE =
  "/apis/v1/namespaces/mysql-operator/pingsources/mysql-resync";

function plural(kind: string): string {
  const lower = kind.toLowerCase();
  return lower.endsWith("s") ? `${lower}es` : `${lower}s`;
}

/**
 * The event the adapter sends when `object` is added, updated or deleted
 * (`extensions` may add e.g. a `traceparent`).
 */
export function resourceEvent(
  verb: ResourceVerb,
  object: Record<string, unknown>,
  source: string,
  extensions: Record<string, string> = {},
): CloudEvent<unknown> {
  const apiVersion = String(object.apiVersion ?? "");
  const kind = String(object.kind ?? "");
  const metadata = (object.metadata ?? {}) as {
    name?: string;
    namespace?: string;
  };
  if (!apiVersion || !kind || !metadata.name) {
    throw new Error("the object needs apiVersion, kind and metadata.name");
  }
  const prefix = apiVersion.includes("/") ? "/apis" : "/api";
  const scope = metadata.namespace ? `/namespaces/${metadata.namespace}` : "";
  return new CloudEvent({
    type: `dev.knative.apiserver.resource.${verb}`,
    source,
    subject: `${prefix}/${apiVersion}${scope}/${plural(kind)}/${metadata.name}`,
    datacontenttype: "application/json",
    data: object,
    kind,
    name: metadata.name,
    ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
    apiversion: apiVersion,
    ...extensions,
  });
}

/** A `dev.knative.apiserver.resource.update` event for the cluster `namespace/name`. */
export function clusterUpdateEvent(
  source: string,
  namespace: string,
  name: string,
  extensions: Record<string, string> = {},
): CloudEvent<unknown> {
  return resourceEvent(
    "update",
    {
      apiVersion: "database.example.com/v1",
      kind: "MySQLCluster",
      metadata: { name, namespace },
    },
    source,
    extensions,
  );
}

/**
 * The event a PingSource sends: by default the resync's; `source` and
 * `data` of another PingSource (e.g. the pending clusters' one).
 */
export function resyncEvent(
  source = RESYNC_SOURCE,
  data: unknown = { reason: "resync" },
): CloudEvent<unknown> {
  return new CloudEvent({
    type: "dev.knative.sources.ping",
    source,
    datacontenttype: "application/json",
    data,
  });
}

/**
 * POSTs `event` to `url` in the given content mode, with `token` as the
 * sender's bearer token when given; the body is left to the caller.
 * `signal` abandons the request (a sender that gives up).
 */
export function postEvent(
  url: string,
  event: CloudEvent<unknown>,
  mode: "binary" | "structured" = "binary",
  token?: string,
  signal?: AbortSignal,
): Promise<Response> {
  const message = mode === "binary"
    ? HTTP.binary(event)
    : HTTP.structured(event);
  const headers = { ...message.headers as Record<string, string> };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(url, {
    method: "POST",
    headers,
    body: message.body as string,
    ...(signal ? { signal } : {}),
  });
}
