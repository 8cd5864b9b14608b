/**
 * The CloudEvents tests and benchmarks send: an ApiServerSource update of a
 * MySQLCluster (Resource mode), in binary or structured content mode.
 *
 * @module
 */

import { CloudEvent, HTTP } from "cloudevents";

/** A `dev.knative.apiserver.resource.update` event for the cluster `namespace/name`. */
export function clusterUpdateEvent(
  source: string,
  namespace: string,
  name: string,
  extensions: Record<string, string> = {},
): CloudEvent<unknown> {
  return new CloudEvent({
    type: "dev.knative.apiserver.resource.update",
    source,
    subject:
      `/apis/database.example.com/v1/namespaces/${namespace}/mysqlclusters/${name}`,
    datacontenttype: "application/json",
    data: {
      apiVersion: "database.example.com/v1",
      kind: "MySQLCluster",
      metadata: { name, namespace },
    },
    ...extensions,
  });
}

/** POSTs `event` to `url` in the given content mode; the body is left to the caller. */
export function postEvent(
  url: string,
  event: CloudEvent<unknown>,
  mode: "binary" | "structured" = "binary",
): Promise<Response> {
  const message = mode === "binary"
    ? HTTP.binary(event)
    : HTTP.structured(event);
  return fetch(url, {
    method: "POST",
    headers: message.headers as Record<string, string>,
    body: message.body as string,
  });
}
