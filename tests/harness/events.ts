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

/** Why a PingSource of knative/ pings: its name is `mysql-<reason>`. */
export type PingReason = "resync" | "pending";

/** The `source` of the events of the PingSource `mysql-<reason>` (as in knative/). */
function pingSourceOf(reason: PingReason): string {
  return `/apis/v1/namespaces/mysql-operator/pingsources/mysql-${reason}`;
}

/** The PingSource the resync events come from (as in knative/). */
const RESYNC_SOURCE: string = pingSourceOf("resync");

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
 * `data` of another PingSource (knative/'s two: {@linkcode pingEvent}).
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
 * The event the PingSource `mysql-<reason>` of knative/ sends: the full
 * resync (every 10 min) or the pending one (every minute), `{reason}` as
 * data.
 */
export function pingEvent(reason: PingReason): CloudEvent<unknown> {
  return resyncEvent(pingSourceOf(reason), { reason });
}

/** The HTTP headers and body that carry `event` in the given content mode. */
export function encodeEvent(
  event: CloudEvent<unknown>,
  mode: "binary" | "structured" = "binary",
): { headers: Record<string, string>; body: string } {
  const message = mode === "binary"
    ? HTTP.binary(event)
    : HTTP.structured(event);
  return {
    headers: { ...message.headers as Record<string, string> },
    body: message.body as string,
  };
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
  const { headers, body } = encodeEvent(event, mode);
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(url, {
    method: "POST",
    headers,
    body,
    ...(signal ? { signal } : {}),
  });
}
