/**
 * Turning a CloudEvent (binary or structured content mode, decoded by the
 * `cloudevents` package) into the work it asks for: which MySQLCluster to
 * reconcile, or a resync. The event is only a hint: its payload names a
 * cluster, it is never used as the cluster's state.
 *
 * @module
 */

import { HTTP } from "cloudevents";
import { isDnsLabel, isDnsSubdomain } from "../core/dns_names.ts";
import { API_VERSION, KIND } from "../core/mysql_cluster_schema.ts";

/** The ApiServerSource event types, Resource mode (data = the object). */
export const RESOURCE_TYPES = [
  "dev.knative.apiserver.resource.add",
  "dev.knative.apiserver.resource.update",
  "dev.knative.apiserver.resource.delete",
];
/** The ApiServerSource event types, Reference mode (data = a reference). */
export const REFERENCE_TYPES = [
  "dev.knative.apiserver.ref.add",
  "dev.knative.apiserver.ref.update",
  "dev.knative.apiserver.ref.delete",
];
/** The PingSource event type: resync every cluster. */
export const PING_TYPE = "dev.knative.sources.ping";

/** A Kubernetes object reference. */
export interface Ref {
  /** `apiVersion` of the object. */
  apiVersion: string;
  /** Its kind. */
  kind: string;
  /** Its namespace. */
  namespace: string;
  /** Its name. */
  name: string;
}

/** What an event asks for. */
export type Work =
  | { kind: "reconcile"; namespace: string; name: string; via: string }
  | { kind: "find-owner"; child: Ref }
  | { kind: "resync" }
  | { kind: "ignore"; reason: string };

/** The CloudEvent's attributes that telemetry and responses report. */
export interface EventInfo {
  /** `id`, unique per event (redeliveries keep it). */
  id: string;
  /** `type`, e.g. `dev.knative.apiserver.resource.update`. */
  type: string;
  /** `source`: the sender (the apiserver URL for ApiServerSources). */
  source: string;
  /** `subject`: the object's path, when given. */
  subject?: string;
  /** W3C trace context, when the sender propagated one. */
  traceparent?: string;
  /** W3C trace state that goes with `traceparent`. */
  tracestate?: string;
}

/** The request is not a CloudEvent this function handles (answer 400, not retried). */
export class BadEventError extends Error {
  /** Builds the error with a message meant for the sender. */
  constructor(message: string) {
    super(message);
    this.name = "BadEventError";
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") {
    throw new BadEventError(`${what} is missing or not a string`);
  }
  return value;
}

/** A namespace from an event: a DNS-1123 label, or the event is refused. */
function requireNamespace(value: unknown, what: string): string {
  const namespace = requireString(value, what);
  if (!isDnsLabel(namespace)) {
    throw new BadEventError(
      `${what} ${
        JSON.stringify(namespace.slice(0, 300))
      } is not a namespace (a DNS-1123 label)`,
    );
  }
  return namespace;
}

/** An object name from an event: a DNS-1123 subdomain, or the event is refused. */
function requireName(value: unknown, what: string): string {
  const name = requireString(value, what);
  if (!isDnsSubdomain(name)) {
    throw new BadEventError(
      `${what} ${
        JSON.stringify(name.slice(0, 300))
      } is not an object name (a DNS-1123 subdomain)`,
    );
  }
  return name;
}

function isCluster(apiVersion: string, kind: string): boolean {
  return kind === KIND && apiVersion === API_VERSION;
}

/** The cluster that owns `object` through its controller ownerReference, if any. */
export function controllingCluster(
  object: Record<string, unknown>,
): string | undefined {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  const owners = Array.isArray(metadata.ownerReferences)
    ? metadata.ownerReferences
    : [];
  const owner = owners.find((o: unknown) =>
    isObject(o) && o.controller === true &&
    isCluster(String(o.apiVersion), String(o.kind))
  ) as { name?: unknown } | undefined;
  return typeof owner?.name === "string" ? owner.name : undefined;
}

function workFor(type: string, data: unknown): Work {
  if (type === PING_TYPE) return { kind: "resync" };
  const resource = RESOURCE_TYPES.includes(type);
  if (!resource && !REFERENCE_TYPES.includes(type)) {
    throw new BadEventError(
      `unexpected event type "${type}": expected one of ${
        [...RESOURCE_TYPES, ...REFERENCE_TYPES, PING_TYPE].join(", ")
      }`,
    );
  }
  if (!isObject(data)) {
    throw new BadEventError(`event data of ${type} must be a JSON object`);
  }
  if (resource) {
    const metadata = isObject(data.metadata) ? data.metadata : {};
    const apiVersion = requireString(data.apiVersion, "data.apiVersion");
    const kind = requireString(data.kind, "data.kind");
    const namespace = requireNamespace(
      metadata.namespace,
      "data.metadata.namespace",
    );
    const name = requireName(metadata.name, "data.metadata.name");
    if (isCluster(apiVersion, kind)) {
      return {
        kind: "reconcile",
        namespace,
        name,
        via: `${KIND} ${namespace}/${name}`,
      };
    }
    const owner = controllingCluster(data);
    if (owner !== undefined) {
      requireName(owner, "the controller ownerReference's name");
    }
    return owner
      ? {
        kind: "reconcile",
        namespace,
        name: owner,
        via: `${kind} ${namespace}/${name}`,
      }
      : {
        kind: "ignore",
        reason: `${kind} ${namespace}/${name} is not controlled by a ${KIND}`,
      };
  }
  const ref: Ref = {
    apiVersion: requireString(data.apiVersion, "data.apiVersion"),
    kind: requireString(data.kind, "data.kind"),
    namespace: requireNamespace(data.namespace, "data.namespace"),
    name: requireName(data.name, "data.name"),
  };
  if (isCluster(ref.apiVersion, ref.kind)) {
    return {
      kind: "reconcile",
      namespace: ref.namespace,
      name: ref.name,
      via: `${KIND} ${ref.namespace}/${ref.name}`,
    };
  }
  if (type.endsWith(".delete")) {
    // the child is gone: nothing left to read its owner from; the resync repairs it
    return {
      kind: "ignore",
      reason: `${ref.kind} ${ref.namespace}/${ref.name} was deleted`,
    };
  }
  return { kind: "find-owner", child: ref };
}

/**
 * Decodes an HTTP request body and headers into the event's attributes and
 * the work it asks for. Throws {@linkcode BadEventError} for anything that
 * is not a well-formed event of a handled type.
 */
export function decodeEvent(
  headers: Headers,
  body: string,
): { info: EventInfo; work: Work } {
  checkContract(headers, body);
  const plain: Record<string, string> = {};
  headers.forEach((value, key) => plain[key] = value);
  let event;
  try {
    const decoded = HTTP.toEvent({ headers: plain, body });
    if (Array.isArray(decoded)) {
      throw new BadEventError(
        "batched CloudEvents are not supported: send one event per request",
      );
    }
    event = decoded;
  } catch (error) {
    if (error instanceof BadEventError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new BadEventError(`not a valid CloudEvent: ${reason}`);
  }
  const info: EventInfo = {
    id: event.id,
    type: event.type,
    source: event.source,
  };
  if (event.subject) info.subject = event.subject;
  const traceparent = headers.get("traceparent") ??
    stringExtension(event, "traceparent");
  if (traceparent) info.traceparent = traceparent;
  const tracestate = headers.get("tracestate") ??
    stringExtension(event, "tracestate");
  if (tracestate) info.tracestate = tracestate;
  let data: unknown = event.data;
  if (typeof data === "string" && data.trim().startsWith("{")) {
    try {
      data = JSON.parse(data);
    } catch {
      throw new BadEventError(`event data of ${event.type} is not valid JSON`);
    }
  }
  return { info, work: workFor(event.type, data) };
}

/**
 * The CloudEvents 1.0 contract, checked before decoding: `specversion`
 * must be `1.0` and `id`, `source` and `type` present, in binary mode (as
 * `ce-` headers) and in structured mode (in the JSON envelope).
 */
function checkContract(headers: Headers, body: string): void {
  const contentType = headers.get("content-type") ?? "";
  if (contentType.startsWith("application/cloudevents-batch")) {
    throw new BadEventError(
      "batched CloudEvents are not supported: send one event per request",
    );
  }
  let attributes: Record<string, unknown>;
  let where: string;
  if (contentType.startsWith("application/cloudevents")) {
    where = "the structured event's";
    try {
      const parsed = JSON.parse(body);
      attributes = isObject(parsed) ? parsed : {};
    } catch {
      throw new BadEventError("not a valid CloudEvent: the body is not JSON");
    }
  } else {
    where = "the ce- headers'";
    attributes = {};
    for (const name of ["specversion", "id", "source", "type"]) {
      const value = headers.get(`ce-${name}`);
      if (value !== null) attributes[name] = value;
    }
  }
  if (attributes.specversion !== "1.0") {
    throw new BadEventError(
      `not a valid CloudEvent: ${where} specversion is ${
        JSON.stringify(attributes.specversion ?? null)
      }, expected "1.0"`,
    );
  }
  for (const name of ["id", "source", "type"]) {
    const value = attributes[name];
    if (typeof value !== "string" || value === "") {
      throw new BadEventError(
        `not a valid CloudEvent: ${where} ${name} is missing`,
      );
    }
  }
}

function stringExtension(event: object, name: string): string | undefined {
  const value = (event as Record<string, unknown>)[name];
  return typeof value === "string" ? value : undefined;
}
