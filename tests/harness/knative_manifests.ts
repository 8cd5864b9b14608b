/**
 * Reading what `knative/` declares, for tests and the dev loop: the
 * ApiServerSources become the adapter's configuration, PingSources and
 * Triggers are checked. Their CRDs keep unknown fields (in a cluster
 * Knative's webhook checks them), so every key is checked here against the
 * fields the Knative v1 types define, and an unknown one is an error naming
 * its path.
 *
 * @module
 */

import type { KubeObject } from "../../lib/core/objects.ts";
import type { SourceConfig } from "./adapter.ts";
import { oidcServiceAccountName } from "./knative_oidc.ts";

/** A shape: for each allowed key, its own shape (`true`: any value). */
export type Shape = { [key: string]: Shape | true } | [Shape];

/** Refuses any key of `value` that `shape` does not list, naming its path. */
export function checkKeys(value: unknown, shape: Shape, path: string): void {
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) throw new Error(`${path} must be a list`);
    value.forEach((item, i) => checkKeys(item, shape[0], `${path}[${i}]`));
    return;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${path} must be an object`);
  }
  for (const [key, inner] of Object.entries(value)) {
    const allowed = shape[key];
    if (allowed === undefined) {
      throw new Error(
        `${path}.${key} is not a field (known: ${
          Object.keys(shape).join(", ")
        })`,
      );
    }
    if (allowed !== true) checkKeys(inner, allowed, `${path}.${key}`);
  }
}

const KREF: Shape = {
  apiVersion: true,
  kind: true,
  name: true,
  namespace: true,
  address: true,
};
const DESTINATION: Shape = {
  ref: KREF,
  uri: true,
  CACerts: true,
  audience: true,
};
const LABEL_SELECTOR: Shape = {
  matchLabels: true,
  matchExpressions: [{ key: true, operator: true, values: true }],
};
const CE_OVERRIDES: Shape = { extensions: true };
const DELIVERY: Shape = {
  deadLetterSink: DESTINATION,
  retry: true,
  backoffPolicy: true,
  backoffDelay: true,
  timeout: true,
  retryAfterMax: true,
  format: true,
};
const METADATA: Shape = {
  name: true,
  namespace: true,
  labels: true,
  annotations: true,
};

/** The fields of an ApiServerSource (sources.knative.dev/v1). */
export const API_SERVER_SOURCE_SHAPE: Shape = {
  apiVersion: true,
  kind: true,
  metadata: METADATA,
  spec: {
    mode: true,
    resources: [{ apiVersion: true, kind: true, selector: LABEL_SELECTOR }],
    owner: { apiVersion: true, kind: true },
    namespaceSelector: LABEL_SELECTOR,
    serviceAccountName: true,
    sink: DESTINATION,
    ceOverrides: CE_OVERRIDES,
    filters: true,
  },
};

/** The fields of a PingSource (sources.knative.dev/v1). */
export const PING_SOURCE_SHAPE: Shape = {
  apiVersion: true,
  kind: true,
  metadata: METADATA,
  spec: {
    schedule: true,
    timezone: true,
    contentType: true,
    data: true,
    dataBase64: true,
    sink: DESTINATION,
    ceOverrides: CE_OVERRIDES,
  },
};

/** The fields of a Trigger (eventing.knative.dev/v1). */
export const TRIGGER_SHAPE: Shape = {
  apiVersion: true,
  kind: true,
  metadata: METADATA,
  spec: {
    broker: true,
    brokerRef: KREF,
    filter: { attributes: true },
    filters: true,
    subscriber: DESTINATION,
    delivery: DELIVERY,
  },
};

/** A resource as the adapter names it. */
export interface Gvr {
  group: string;
  version: string;
  resource: string;
}

/** Finds the resource (plural) of a kind, e.g. through discovery. */
export type ResolveResource = (
  apiVersion: string,
  kind: string,
) => Promise<Gvr>;

/** What an ApiServerSource asks of its adapter. */
export interface DerivedSource {
  name: string;
  namespace: string;
  serviceAccountName: string;
  sink: { ref?: Record<string, string>; uri?: string; audience?: string };
  config: SourceConfig;
  /** The audience its tokens are issued for (`spec.sink.audience`). */
  audience?: string;
  /** The ServiceAccount Knative makes for its sender identity. */
  oidcServiceAccount: string;
}

function selectorString(selector: Record<string, unknown> | undefined): string {
  if (!selector) return "";
  const parts = Object.entries(
    (selector.matchLabels ?? {}) as Record<string, string>,
  ).map(([k, v]) => `${k}=${v}`);
  for (
    const { key, operator, values = [] } of (selector.matchExpressions ??
      []) as { key: string; operator: string; values?: string[] }[]
  ) {
    switch (operator) {
      case "In":
        parts.push(`${key} in (${values.join(",")})`);
        break;
      case "NotIn":
        parts.push(`${key} notin (${values.join(",")})`);
        break;
      case "Exists":
        parts.push(key);
        break;
      case "DoesNotExist":
        parts.push(`!${key}`);
        break;
      default:
        throw new Error(`selector operator ${operator} is not known`);
    }
  }
  return parts.join(",");
}

/**
 * The adapter configuration an ApiServerSource stands for, as Knative's
 * controller would derive it. Unknown keys, a mode other than Resource or
 * Reference, and a namespace selector with labels (which would need the
 * namespaces listed) are refused.
 */
export async function deriveSource(
  source: KubeObject,
  resolve: ResolveResource,
): Promise<DerivedSource> {
  // deno-lint-ignore no-explicit-any
  const object = source as any;
  const name = object.metadata?.name ?? "?";
  checkKeys(object, API_SERVER_SOURCE_SHAPE, `ApiServerSource ${name}`);
  const spec = object.spec ?? {};
  const mode = spec.mode ?? "Reference";
  if (mode !== "Resource" && mode !== "Reference") {
    throw new Error(
      `ApiServerSource ${name}: mode "${mode}" is not Resource or Reference`,
    );
  }
  const namespace = object.metadata?.namespace;
  if (!namespace) throw new Error(`ApiServerSource ${name} has no namespace`);
  const selector = spec.namespaceSelector;
  if (
    selector &&
    (Object.keys(selector.matchLabels ?? {}).length > 0 ||
      (selector.matchExpressions ?? []).length > 0)
  ) {
    throw new Error(
      `ApiServerSource ${name}: a namespaceSelector with labels is not supported here`,
    );
  }
  if (!Array.isArray(spec.resources) || spec.resources.length === 0) {
    throw new Error(`ApiServerSource ${name} watches no resources`);
  }
  const resources = [];
  for (const resource of spec.resources) {
    const gvr = await resolve(resource.apiVersion, resource.kind);
    resources.push({
      gvr: {
        Group: gvr.group,
        Version: gvr.version,
        Resource: gvr.resource,
      },
      selector: selectorString(resource.selector),
    });
  }
  const config: SourceConfig = {
    namespaces: selector ? [] : [namespace],
    allNamespaces: Boolean(selector),
    resources,
    mode,
  };
  if (spec.owner) config.owner = spec.owner;
  if (!spec.sink) throw new Error(`ApiServerSource ${name} has no sink`);
  return {
    name,
    namespace,
    serviceAccountName: spec.serviceAccountName ?? "default",
    sink: spec.sink,
    config,
    ...(spec.sink.audience ? { audience: spec.sink.audience } : {}),
    oidcServiceAccount: oidcServiceAccountName({
      name,
      apiVersion: object.apiVersion,
      kind: object.kind,
    }),
  };
}

/** What a PingSource stands for in the dev loop and the tests. */
export interface DerivedPing {
  name: string;
  namespace: string;
  schedule: string;
  /** The data it sends (`spec.data`, JSON). */
  data: unknown;
  /** Its events' `source` attribute. */
  source: string;
  /** The audience its tokens are issued for (`spec.sink.audience`). */
  audience?: string;
  /** The ServiceAccount Knative makes for its sender identity. */
  oidcServiceAccount: string;
}

/** Checks a PingSource (see {@linkcode checkPingSource}) and reads it. */
export function derivePing(source: KubeObject): DerivedPing {
  checkPingSource(source);
  // deno-lint-ignore no-explicit-any
  const object = source as any;
  const name = object.metadata.name;
  return {
    name,
    namespace: object.metadata.namespace ?? "default",
    schedule: String(object.spec.schedule).trim(),
    data: object.spec.data === undefined ? {} : JSON.parse(object.spec.data),
    source: `/apis/v1/namespaces/${
      object.metadata.namespace ?? "default"
    }/pingsources/${name}`,
    ...(object.spec.sink.audience
      ? { audience: object.spec.sink.audience }
      : {}),
    oidcServiceAccount: oidcServiceAccountName({
      name,
      apiVersion: object.apiVersion,
      kind: object.kind,
    }),
  };
}

/** Checks a PingSource's keys and its cron schedule (five fields). */
export function checkPingSource(source: KubeObject): void {
  // deno-lint-ignore no-explicit-any
  const object = source as any;
  const name = object.metadata?.name ?? "?";
  checkKeys(object, PING_SOURCE_SHAPE, `PingSource ${name}`);
  const schedule = String(object.spec?.schedule ?? "");
  if (!/^(\S+\s+){4}\S+$/.test(schedule.trim())) {
    throw new Error(
      `PingSource ${name}: schedule "${schedule}" is not a five-field cron expression`,
    );
  }
  if (object.spec?.data !== undefined) {
    if (object.spec.contentType === "application/json") {
      JSON.parse(object.spec.data);
    }
  }
  if (!object.spec?.sink) throw new Error(`PingSource ${name} has no sink`);
}

/** Checks a Trigger's keys. */
export function checkTrigger(trigger: KubeObject): void {
  // deno-lint-ignore no-explicit-any
  const object = trigger as any;
  checkKeys(object, TRIGGER_SHAPE, `Trigger ${object.metadata?.name ?? "?"}`);
}

/**
 * The environment a Knative Service among `manifests` gives its container
 * (the variables with a literal `value`); `undefined` without one.
 */
export function serviceEnv(
  manifests: KubeObject[],
): Record<string, string> | undefined {
  const service = manifests.find((o) =>
    o.kind === "Service" && String(o.apiVersion).startsWith("serving.knative")
  ) as {
    spec?: {
      template?: {
        spec?: { containers?: { env?: { name: string; value?: string }[] }[] };
      };
    };
  } | undefined;
  const container = service?.spec?.template?.spec?.containers?.[0];
  if (!container) return undefined;
  return Object.fromEntries(
    (container.env ?? []).filter((e) => e.value !== undefined)
      .map((e) => [e.name, e.value!]),
  );
}
