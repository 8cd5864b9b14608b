/**
 * Turning a CloudEvent into the work it asks for: which MySQLCluster to
 * reconcile, or a resync. The event is only a hint: its payload names a
 * cluster, it is never used as the cluster's state.
 *
 * Both content modes of the CloudEvents 1.0 HTTP protocol binding are
 * decoded here (the `cloudevents` package's decoder cost a cold start
 * ~45 ms and 14 MiB for the schema validator it loads; it stays the tests'
 * encoder, and a test checks this decoder against it).
 *
 * @module
 */

import { isDnsLabel, isDnsSubdomain } from "../core/dns_names.ts";
import { isClusterKind } from "../core/kinds.ts";
import { KIND } from "../core/mysql_cluster_schema.ts";
import { childKey, isRecord, type ObjectRef } from "../core/objects.ts";

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
export type Ref = ObjectRef;

/** What an event asks for. */
export type Work =
  | {
    kind: "reconcile";
    namespace: string;
    name: string;
    via: string;
    /** The object the event was about, as it carried it (Resource mode). */
    object?: EventObject;
  }
  | { kind: "find-owner"; child: Ref }
  | {
    kind: "resync";
    /** `pending`: only clusters never reconciled (a cheap repair of lost creations). */
    scope: "all" | "pending";
  }
  | { kind: "ignore"; reason: string };

/** The object an add or update event carried: which one, and at what version. */
export interface EventObject {
  /** `Kind/name` (see `childKey`), the cluster's own included. */
  key: string;
  /** Its `metadata.resourceVersion` in the event. */
  resourceVersion: string;
  /** A cluster never reconciled yet (no `status.phase`): maybe one of a burst. */
  fresh?: true;
  /**
   * The event told of its deletion (the version is the deletion's): never
   * an echo — what was deleted must be made again — but what the pass
   * reads of it is at least as new.
   */
  deleted?: true;
}

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

function requireString(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") {
    throw new BadEventError(`${what} is missing or not a string`);
  }
  return value;
}

/** A check of a string of the event: one `valid` accepts, or the event is refused as not `noun`. */
function dnsName(valid: (name: string) => boolean, noun: string) {
  return (value: unknown, what: string): string => {
    const name = requireString(value, what);
    if (!valid(name)) {
      throw new BadEventError(
        `${what} ${JSON.stringify(name.slice(0, 300))} is not ${noun}`,
      );
    }
    return name;
  };
}

/** A namespace from an event: a DNS-1123 label, or the event is refused. */
const requireNamespace = dnsName(isDnsLabel, "a namespace (a DNS-1123 label)");

/** An object name from an event: a DNS-1123 subdomain, or the event is refused. */
const requireName = dnsName(
  isDnsSubdomain,
  "an object name (a DNS-1123 subdomain)",
);

/** The cluster that owns `object` through its controller ownerReference, if any. */
export function controllingCluster(
  object: Record<string, unknown>,
): string | undefined {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const owners = Array.isArray(metadata.ownerReferences)
    ? metadata.ownerReferences
    : [];
  const owner = owners.find((o: unknown) =>
    isRecord(o) && o.controller === true &&
    isClusterKind(String(o.apiVersion), String(o.kind))
  ) as { name?: unknown } | undefined;
  return typeof owner?.name === "string" ? owner.name : undefined;
}

function workFor(type: string, data: unknown): Work {
  if (type === PING_TYPE) {
    const reason = isRecord(data) ? data.reason : undefined;
    return { kind: "resync", scope: reason === "pending" ? "pending" : "all" };
  }
  const resource = RESOURCE_TYPES.includes(type);
  if (!resource && !REFERENCE_TYPES.includes(type)) {
    throw new BadEventError(
      `unexpected event type "${type}": expected one of ${
        [...RESOURCE_TYPES, ...REFERENCE_TYPES, PING_TYPE].join(", ")
      }`,
    );
  }
  if (!isRecord(data)) {
    throw new BadEventError(`event data of ${type} must be a JSON object`);
  }
  if (resource) {
    const metadata = isRecord(data.metadata) ? data.metadata : {};
    const apiVersion = requireString(data.apiVersion, "data.apiVersion");
    const kind = requireString(data.kind, "data.kind");
    const namespace = requireNamespace(
      metadata.namespace,
      "data.metadata.namespace",
    );
    const name = requireName(metadata.name, "data.metadata.name");
    // what the event carried: an echo of a write is known by it (a delete
    // is never one: what was deleted must be made again), and the pass
    // reads it at least as new
    const deleted = type.endsWith(".delete");
    const carried: EventObject | undefined =
      typeof metadata.resourceVersion === "string"
        ? {
          key: childKey(kind, name),
          resourceVersion: metadata.resourceVersion,
          ...(deleted ? { deleted: true as const } : {}),
        }
        : undefined;
    const object = carried ? { object: carried } : {};
    if (isClusterKind(apiVersion, kind)) {
      const status = isRecord(data.status) ? data.status : {};
      // never reconciled yet: perhaps one of a burst of creations
      if (carried && !deleted && typeof status.phase !== "string") {
        carried.fresh = true;
      }
      return {
        kind: "reconcile",
        namespace,
        name,
        via: `${KIND} ${namespace}/${name}`,
        ...object,
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
        ...object,
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
  if (isClusterKind(ref.apiVersion, ref.kind)) {
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

/** One CloudEvent as it arrived: its context attributes and its data. */
interface Received {
  attributes: Record<string, unknown>;
  data: unknown;
}

function isJsonType(contentType: string): boolean {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || type.endsWith("+json") ||
    type === "text/json";
}

/** A `ce-` header value: percent-encoded by the HTTP binding. */
function headerValue(value: string): string {
  if (!value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The event in a request, per the CloudEvents 1.0 HTTP protocol binding:
 * structured mode (`application/cloudevents+json`: a JSON envelope) or
 * binary mode (`ce-` headers, the body as data), checked against the
 * contract — `specversion` `1.0`, and `id`, `source`, `type` present.
 */
function receive(headers: Headers, body: string): Received {
  const contentType = headers.get("content-type") ?? "";
  if (contentType.startsWith("application/cloudevents-batch")) {
    throw new BadEventError(
      "batched CloudEvents are not supported: send one event per request",
    );
  }
  let received: Received;
  let where: string;
  if (contentType.startsWith("application/cloudevents")) {
    where = "the structured event's";
    let envelope: unknown;
    try {
      envelope = JSON.parse(body);
    } catch {
      throw new BadEventError("not a valid CloudEvent: the body is not JSON");
    }
    if (!isRecord(envelope)) {
      throw new BadEventError(
        "not a valid CloudEvent: the structured event is not a JSON object",
      );
    }
    const { data, data_base64, ...attributes } = envelope;
    let payload = data;
    if (typeof data_base64 === "string") {
      try {
        payload = new TextDecoder().decode(
          Uint8Array.from(atob(data_base64), (c) => c.charCodeAt(0)),
        );
      } catch {
        throw new BadEventError(
          "not a valid CloudEvent: data_base64 is not base64",
        );
      }
    }
    received = { attributes, data: payload };
  } else {
    where = "the ce- headers'";
    const attributes: Record<string, unknown> = {};
    headers.forEach((value, name) => {
      if (name.startsWith("ce-")) {
        attributes[name.slice(3)] = headerValue(value);
      }
    });
    if (contentType) attributes.datacontenttype = contentType;
    received = { attributes, data: body };
  }
  const { attributes } = received;
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
  // JSON data arrives as text (binary mode, data_base64) or parsed (structured)
  const type = String(attributes.type);
  const dataType = String(attributes.datacontenttype ?? "application/json");
  if (typeof received.data === "string" && isJsonType(dataType)) {
    if (received.data.trim() === "") received.data = undefined;
    else {
      try {
        received.data = JSON.parse(received.data);
      } catch {
        throw new BadEventError(`event data of ${type} is not valid JSON`);
      }
    }
  }
  return received;
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
  const { attributes, data } = receive(headers, body);
  const info: EventInfo = {
    id: String(attributes.id),
    type: String(attributes.type),
    source: String(attributes.source),
  };
  if (typeof attributes.subject === "string" && attributes.subject) {
    info.subject = attributes.subject;
  }
  const traceparent = headers.get("traceparent") ??
    stringOf(attributes.traceparent);
  if (traceparent) info.traceparent = traceparent;
  const tracestate = headers.get("tracestate") ??
    stringOf(attributes.tracestate);
  if (tracestate) info.tracestate = tracestate;
  return { info, work: workFor(info.type, data) };
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
