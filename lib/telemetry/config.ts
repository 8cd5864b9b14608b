/**
 * Telemetry settings read from the standard OpenTelemetry variables plus
 * Knative's `K_SERVICE` / `K_REVISION`. Pure: give it a lookup function,
 * get the settings; nothing is started here.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };

/** The function's own version (`version` in deno.json). */
export const SERVICE_VERSION: string = denoJson.version;

/** Name of the tracer and default service name. */
export const INSTRUMENTATION_NAME = "mysql-operator-fn";

/** Default bound on the per-request flush (milliseconds). */
export const DEFAULT_FLUSH_TIMEOUT_MS = 1_000;

/** What the telemetry edge is told by the environment. */
export interface TelemetryConfig {
  /** False when `OTEL_SDK_DISABLED=true`: no SDK, no span ids. */
  enabled: boolean;
  /** Where OTLP/HTTP traces go; undefined: nothing is exported over OTLP. */
  tracesUrl?: string;
  /** `OTEL_TRACES_EXPORTER` includes `console`: each request prints as a span tree. */
  console: boolean;
  /** Exporter timeout (`OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT`, else the flush timeout). */
  exportTimeoutMs: number;
  /**
   * Headers of each export (`OTEL_EXPORTER_OTLP_HEADERS`, then
   * `OTEL_EXPORTER_OTLP_TRACES_HEADERS` over it): often a collector's
   * credentials, so never logged.
   */
  exportHeaders: Record<string, string>;
  /** Longest a response waits for its spans to be exported (`OTEL_FLUSH_TIMEOUT_MS`). */
  flushTimeoutMs: number;
  /**
   * The resource: the defaults (`service.name` = `K_SERVICE`, `faas.*`,
   * `service.version`), then `OTEL_RESOURCE_ATTRIBUTES`, then
   * `OTEL_SERVICE_NAME` over them.
   */
  attributes: Record<string, string>;
  /** `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (default `parentbased_always_on`). */
  sampler: SamplerSetting;
  /** Span limits the standard `OTEL_[SPAN_]…_LIMIT` variables set (the SDK's defaults for the rest). */
  spanLimits: SpanLimitSettings;
}

/** Which sampler: `root` decides a trace's first span; `parentBased` follows the caller's decision. */
export interface SamplerSetting {
  /** What decides where there is no parent (or always, unless `parentBased`). */
  root: "always_on" | "always_off" | "traceidratio";
  /** A span with a parent (the caller's traceparent) keeps its parent's decision. */
  parentBased: boolean;
  /** `traceidratio`'s share of traces kept, 0–1 (`OTEL_TRACES_SAMPLER_ARG`, default 1). */
  ratio: number;
}

/** Span limits, as the SDK's `SpanLimits` names them (unset: the SDK's default). */
export interface SpanLimitSettings {
  /** Attributes per span. */
  attributeCountLimit?: number;
  /** Characters per attribute value. */
  attributeValueLengthLimit?: number;
  /** Events per span. */
  eventCountLimit?: number;
  /** Links per span. */
  linkCountLimit?: number;
  /** Attributes per span event. */
  attributePerEventCountLimit?: number;
  /** Attributes per span link. */
  attributePerLinkCountLimit?: number;
}

/** Each limit and its variables, the first one set wins (the specification's names, then the JavaScript SDK's). */
const SPAN_LIMIT_VARIABLES: [keyof SpanLimitSettings, string[]][] = [
  ["attributeCountLimit", [
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
  ]],
  ["attributeValueLengthLimit", [
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
  ]],
  ["eventCountLimit", ["OTEL_SPAN_EVENT_COUNT_LIMIT"]],
  ["linkCountLimit", ["OTEL_SPAN_LINK_COUNT_LIMIT"]],
  ["attributePerEventCountLimit", [
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT",
  ]],
  ["attributePerLinkCountLimit", [
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT",
  ]],
];

const SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;

/** Looks up one environment variable. */
export type EnvLookup = (name: string) => string | undefined;

function positiveNumber(
  env: EnvLookup,
  name: string,
): number | undefined {
  const raw = env(name)?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(
      `${name}="${raw}" is not a positive number of milliseconds`,
    );
  }
  return value;
}

/**
 * The traces URL per the OTLP exporter specification: the signal-specific
 * variable is used as is; the generic one gets `/v1/traces` appended.
 */
export function tracesUrl(env: EnvLookup): string | undefined {
  const specific = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")?.trim();
  if (specific) return specific;
  const generic = env("OTEL_EXPORTER_OTLP_ENDPOINT")?.trim();
  if (!generic) return undefined;
  return `${generic.replace(/\/+$/, "")}/v1/traces`;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * `key=value,…` with percent-encoded values (the OTLP exporter's format);
 * throws naming the variable and the entry's position, never a value.
 */
function headerList(env: EnvLookup, name: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const raw = env(name)?.trim();
  if (!raw) return headers;
  raw.split(",").forEach((entry, index) => {
    const at = entry.indexOf("=");
    const key = entry.slice(0, Math.max(at, 0)).trim();
    let value: string | undefined;
    try {
      value = decodeURIComponent(entry.slice(at + 1).trim());
    } catch {
      value = undefined;
    }
    // a control character would make every export fail, its value in the error
    if (
      at <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key) ||
      value === undefined || hasControlCharacter(value)
    ) {
      throw new Error(
        `${name}: entry ${
          index + 1
        } is not key=value (a header name, then a percent-encoded value)`,
      );
    }
    headers[key.toLowerCase()] = value;
  });
  return headers;
}

function spanLimits(env: EnvLookup): SpanLimitSettings {
  const limits: SpanLimitSettings = {};
  for (const [limit, names] of SPAN_LIMIT_VARIABLES) {
    for (const name of names) {
      const raw = env(name)?.trim();
      if (!raw) continue;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 0) {
        throw new Error(`${name}="${raw}" is not a whole number ≥ 0`);
      }
      limits[limit] = value;
      break;
    }
  }
  return limits;
}

function sampler(env: EnvLookup): SamplerSetting {
  const raw = env("OTEL_TRACES_SAMPLER")?.trim() || "parentbased_always_on";
  const known = SAMPLERS.find((name) => name === raw.toLowerCase());
  if (!known) {
    throw new Error(
      `OTEL_TRACES_SAMPLER="${raw}" is not one of ${SAMPLERS.join(", ")}`,
    );
  }
  const arg = env("OTEL_TRACES_SAMPLER_ARG")?.trim();
  const ratio = arg ? Number(arg) : 1;
  if (known.endsWith("traceidratio") && !(ratio >= 0 && ratio <= 1)) {
    throw new Error(
      `OTEL_TRACES_SAMPLER_ARG="${arg}" is not a ratio between 0 and 1`,
    );
  }
  const parentBased = known.startsWith("parentbased_");
  const root =
    (parentBased
      ? known.slice("parentbased_".length)
      : known) as SamplerSetting["root"];
  return { root, parentBased, ratio: root === "traceidratio" ? ratio : 1 };
}

/**
 * `OTEL_RESOURCE_ATTRIBUTES`: `key=value,…`, keys and values
 * percent-encoded, at most 255 characters each; throws naming the entry's
 * position.
 */
function resourceAttributes(env: EnvLookup): Record<string, string> {
  const attributes: Record<string, string> = {};
  const raw = env("OTEL_RESOURCE_ATTRIBUTES")?.trim();
  if (!raw) return attributes;
  raw.split(",").forEach((entry, index) => {
    if (entry.trim() === "") return;
    const parts = entry.split("=");
    let key = "", value = "";
    try {
      key = decodeURIComponent(parts[0]!.trim());
      value = decodeURIComponent(parts[1]?.trim() ?? "");
    } catch {
      key = "";
    }
    if (
      parts.length !== 2 || key === "" || key.length > 255 ||
      value.length > 255
    ) {
      throw new Error(
        `OTEL_RESOURCE_ATTRIBUTES: entry ${
          index + 1
        } is not key=value (percent-encoded, at most 255 characters each)`,
      );
    }
    attributes[key] = value;
  });
  return attributes;
}

/** Reads the settings; throws with the variable's name when one is malformed. */
export function telemetryConfig(env: EnvLookup): TelemetryConfig {
  const enabled = env("OTEL_SDK_DISABLED")?.trim().toLowerCase() !== "true";
  const flushTimeoutMs = positiveNumber(env, "OTEL_FLUSH_TIMEOUT_MS") ??
    DEFAULT_FLUSH_TIMEOUT_MS;
  const exportTimeoutMs =
    positiveNumber(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") ??
      positiveNumber(env, "OTEL_EXPORTER_OTLP_TIMEOUT") ?? flushTimeoutMs;
  const exporters = (env("OTEL_TRACES_EXPORTER") ?? "otlp").split(",")
    .map((e) => e.trim().toLowerCase()).filter((e) => e !== "");
  for (const exporter of exporters) {
    if (!["otlp", "console", "none"].includes(exporter)) {
      throw new Error(
        `OTEL_TRACES_EXPORTER="${
          env("OTEL_TRACES_EXPORTER")
        }": "${exporter}" is not one of otlp, console, none`,
      );
    }
  }
  const url = exporters.includes("otlp") ? tracesUrl(env) : undefined;
  if (url !== undefined) {
    try {
      new URL(url);
    } catch {
      throw new Error(`OTLP traces endpoint "${url}" is not a URL`);
    }
  }
  const attributes: Record<string, string> = {
    "service.name": env("K_SERVICE") || INSTRUMENTATION_NAME,
    "service.version": SERVICE_VERSION,
  };
  const service = env("K_SERVICE");
  const revision = env("K_REVISION");
  if (service) attributes["faas.name"] = service;
  if (revision) attributes["faas.version"] = revision;
  Object.assign(attributes, resourceAttributes(env));
  const serviceName = env("OTEL_SERVICE_NAME")?.trim();
  if (serviceName) attributes["service.name"] = serviceName;
  const config: TelemetryConfig = {
    enabled,
    console: exporters.includes("console"),
    exportTimeoutMs,
    exportHeaders: {
      ...headerList(env, "OTEL_EXPORTER_OTLP_HEADERS"),
      ...headerList(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
    },
    flushTimeoutMs,
    attributes,
    sampler: sampler(env),
    spanLimits: spanLimits(env),
  };
  if (url !== undefined) config.tracesUrl = url;
  return config;
}
