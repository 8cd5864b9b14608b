import assert from "node:assert/strict";
import {
  DEFAULT_FLUSH_TIMEOUT_MS,
  INSTRUMENTATION_NAME,
  SERVICE_VERSION,
  telemetryConfig,
  tracesUrl,
} from "./config.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("tracesUrl appends /v1/traces to the generic endpoint only", () => {
  assert.equal(
    tracesUrl(env({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" })),
    "http://collector:4318/v1/traces",
  );
  assert.equal(
    tracesUrl(env({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b:4318/custom",
    })),
    "http://b:4318/custom",
  );
  assert.equal(tracesUrl(env({})), undefined);
});

Deno.test("telemetryConfig names the service after K_SERVICE with its revision", () => {
  const config = telemetryConfig(env({
    K_SERVICE: "mysql-operator",
    K_REVISION: "mysql-operator-00002",
  }));
  assert.deepEqual(config.baseAttributes, {
    "service.name": "mysql-operator",
    "service.version": SERVICE_VERSION,
    "faas.name": "mysql-operator",
    "faas.version": "mysql-operator-00002",
  });
  assert.equal(config.enabled, true);
  assert.equal(config.tracesUrl, undefined);
});

Deno.test("telemetryConfig falls back to the instrumentation name outside Knative", () => {
  const config = telemetryConfig(env({}));
  assert.equal(config.baseAttributes["service.name"], INSTRUMENTATION_NAME);
  assert.equal(config.baseAttributes["faas.name"], undefined);
  assert.equal(config.flushTimeoutMs, DEFAULT_FLUSH_TIMEOUT_MS);
  assert.equal(config.exportTimeoutMs, DEFAULT_FLUSH_TIMEOUT_MS);
});

Deno.test("telemetryConfig honours OTEL_SDK_DISABLED and the timeouts", () => {
  const config = telemetryConfig(env({
    OTEL_SDK_DISABLED: "TRUE",
    OTEL_FLUSH_TIMEOUT_MS: "250",
    OTEL_EXPORTER_OTLP_TIMEOUT: "5000",
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "3000",
  }));
  assert.equal(config.enabled, false);
  assert.equal(config.flushTimeoutMs, 250);
  assert.equal(config.exportTimeoutMs, 3000);
});

Deno.test("telemetryConfig refuses malformed values with the variable's name", () => {
  assert.throws(
    () => telemetryConfig(env({ OTEL_FLUSH_TIMEOUT_MS: "soon" })),
    /OTEL_FLUSH_TIMEOUT_MS="soon" is not a positive number/,
  );
  assert.throws(
    () => telemetryConfig(env({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector" })),
    /OTLP traces endpoint "collector\/v1\/traces" is not a URL/,
  );
});

Deno.test("telemetryConfig reads OTEL_TRACES_EXPORTER", () => {
  const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" };
  assert.equal(
    telemetryConfig(env(endpoint)).tracesUrl,
    "http://c:4318/v1/traces",
  );
  assert.equal(telemetryConfig(env(endpoint)).console, false);
  const both = telemetryConfig(
    env({ ...endpoint, OTEL_TRACES_EXPORTER: "otlp, console" }),
  );
  assert.equal(both.console, true);
  assert.ok(both.tracesUrl);
  const consoleOnly = telemetryConfig(
    env({ ...endpoint, OTEL_TRACES_EXPORTER: "console" }),
  );
  assert.equal(consoleOnly.tracesUrl, undefined);
  assert.equal(
    telemetryConfig(env({ ...endpoint, OTEL_TRACES_EXPORTER: "none" }))
      .tracesUrl,
    undefined,
  );
  assert.throws(
    () => telemetryConfig(env({ OTEL_TRACES_EXPORTER: "jaeger" })),
    /"jaeger" is not one of otlp, console, none/,
  );
});

Deno.test("telemetryConfig reads export headers, the traces' own over the general ones, and names a bad entry without its value", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.deepEqual(telemetryConfig(env({})).exportHeaders, {});
  assert.deepEqual(
    telemetryConfig(env({
      OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Bearer%20t0k3n, x-tenant = a",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-tenant=b",
    })).exportHeaders,
    { authorization: "Bearer t0k3n", "x-tenant": "b" },
  );
  for (
    const bad of [
      "x-key",
      "=v",
      "bad key=v",
      "k=%E0%A4%A",
      "k=a%0D%0Ab",
      "k=a%00b",
    ]
  ) {
    assert.throws(
      () =>
        telemetryConfig(env({
          OTEL_EXPORTER_OTLP_HEADERS: `ok=1,${bad}-secret`,
        })),
      (error: Error) =>
        error.message.startsWith("OTEL_EXPORTER_OTLP_HEADERS: entry 2 ") &&
        !error.message.includes("secret"),
      bad,
    );
  }
});
