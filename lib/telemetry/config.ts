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
  /** Resource attributes set before `OTEL_RESOURCE_ATTRIBUTES` / `OTEL_SERVICE_NAME` apply. */
  baseAttributes: Record<string, string>;
}

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
  const baseAttributes: Record<string, string> = {
    "service.name": env("K_SERVICE") || INSTRUMENTATION_NAME,
    "service.version": SERVICE_VERSION,
  };
  const service = env("K_SERVICE");
  const revision = env("K_REVISION");
  if (service) baseAttributes["faas.name"] = service;
  if (revision) baseAttributes["faas.version"] = revision;
  const config: TelemetryConfig = {
    enabled,
    console: exporters.includes("console"),
    exportTimeoutMs,
    exportHeaders: {
      ...headerList(env, "OTEL_EXPORTER_OTLP_HEADERS"),
      ...headerList(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
    },
    flushTimeoutMs,
    baseAttributes,
  };
  if (url !== undefined) config.tracesUrl = url;
  return config;
}
