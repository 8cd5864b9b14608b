import assert from "node:assert/strict";
import {
  DEFAULT_FLUSH_TIMEOUT_MS,
  INSTRUMENTATION_NAME,
  type SamplerSetting,
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
  assert.deepEqual(config.attributes, {
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
  assert.equal(config.attributes["service.name"], INSTRUMENTATION_NAME);
  assert.equal(config.attributes["faas.name"], undefined);
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

Deno.test("telemetryConfig lays OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME, over the defaults", () => {
  const config = telemetryConfig(env({
    K_SERVICE: "mysql-operator",
    OTEL_RESOURCE_ATTRIBUTES:
      "deployment.environment=prod, team=db%2Cinfra,,service.name=from-attrs",
    OTEL_SERVICE_NAME: "operator",
  }));
  assert.deepEqual(config.attributes, {
    "service.name": "operator",
    "service.version": SERVICE_VERSION,
    "faas.name": "mysql-operator",
    "deployment.environment": "prod",
    "team": "db,infra",
  });
  assert.equal(
    telemetryConfig(env({ OTEL_RESOURCE_ATTRIBUTES: "service.name=a" }))
      .attributes["service.name"],
    "a",
  );
});

Deno.test("telemetryConfig refuses a malformed OTEL_RESOURCE_ATTRIBUTES entry by its position", () => {
  for (const raw of ["a=1,b", "a=1,b=2=3", "a=1,=2", "a=1,b=%zz"]) {
    assert.throws(
      () => telemetryConfig(env({ OTEL_RESOURCE_ATTRIBUTES: raw })),
      /OTEL_RESOURCE_ATTRIBUTES: entry 2 is not key=value/,
      raw,
    );
  }
  assert.throws(
    () =>
      telemetryConfig(
        env({ OTEL_RESOURCE_ATTRIBUTES: `k=${"v".repeat(256)}` }),
      ),
    /entry 1 .* at most 255 characters/,
  );
});

Deno.test("telemetryConfig reads the sampler, parent-based always-on by default", () => {
  // [OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG] and the setting read
  const cases: [string | undefined, string | undefined, SamplerSetting][] = [
    [undefined, undefined, { root: "always_on", parentBased: true, ratio: 1 }],
    ["ParentBased_TraceIdRatio", "0.25", {
      root: "traceidratio",
      parentBased: true,
      ratio: 0.25,
    }],
    ["traceidratio", undefined, {
      root: "traceidratio",
      parentBased: false,
      ratio: 1,
    }],
    ["always_off", "junk", {
      root: "always_off",
      parentBased: false,
      ratio: 1,
    }],
  ];
  for (const [name, arg, expected] of cases) {
    assert.deepEqual(
      telemetryConfig(env({
        ...(name ? { OTEL_TRACES_SAMPLER: name } : {}),
        ...(arg ? { OTEL_TRACES_SAMPLER_ARG: arg } : {}),
      })).sampler,
      expected,
      `${name} ${arg}`,
    );
  }
  assert.throws(
    () => telemetryConfig(env({ OTEL_TRACES_SAMPLER: "Jaeger_Remote" })),
    /OTEL_TRACES_SAMPLER="Jaeger_Remote" is not one of always_on, /,
  );
  for (const arg of ["1.5", "-0.1", "half"]) {
    assert.throws(
      () =>
        telemetryConfig(env({
          OTEL_TRACES_SAMPLER: "traceidratio",
          OTEL_TRACES_SAMPLER_ARG: arg,
        })),
      new RegExp(`OTEL_TRACES_SAMPLER_ARG="${arg}" is not a ratio`),
    );
  }
});

Deno.test("telemetryConfig reads span limits, a span's own variable over the general one", () => {
  assert.deepEqual(telemetryConfig(env({})).spanLimits, {});
  assert.deepEqual(
    telemetryConfig(env({
      OTEL_ATTRIBUTE_COUNT_LIMIT: "64",
      OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: "32",
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "1024",
      OTEL_SPAN_EVENT_COUNT_LIMIT: "0",
      OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT: "8",
    })).spanLimits,
    {
      attributeCountLimit: 32,
      attributeValueLengthLimit: 1024,
      eventCountLimit: 0,
      attributePerLinkCountLimit: 8,
    },
  );
  assert.throws(
    () => telemetryConfig(env({ OTEL_SPAN_LINK_COUNT_LIMIT: "2.5" })),
    /OTEL_SPAN_LINK_COUNT_LIMIT="2.5" is not a whole number/,
  );
});
