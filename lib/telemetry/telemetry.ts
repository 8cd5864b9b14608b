/**
 * The telemetry edge: an OpenTelemetry tracer provider configured from the
 * standard variables (see {@linkcode telemetryConfig}), async context that
 * follows `await`, and a bounded flush that each request awaits before it
 * answers, so a function scaled to zero keeps no spans in memory.
 *
 * The rest of the code only uses `@opentelemetry/api` (`trace.getTracer`,
 * `trace.getActiveSpan`): without this edge started every span is a no-op.
 *
 * @module
 */

import { context, trace } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
// the provider without sdk-trace-base's environment fallbacks: they read
// `process.env`, and Node's `process` costs a cold start ~10–20 ms (the
// settings come from telemetryConfig instead)
import { TracerProvider } from "@opentelemetry/sdk-trace";
import { AsyncContextManager } from "./context_manager.ts";
import { LazyOtlpProcessor } from "./otlp_processor.ts";
import { SpanTreePrinter } from "./span_tree.ts";
import {
  type EnvLookup,
  type SamplerSetting,
  type TelemetryConfig,
  telemetryConfig,
} from "./config.ts";

/** How a flush went. */
export interface FlushResult {
  /** Milliseconds the response waited. */
  ms: number;
  /**
   * `done`; `timeout` (spans still on their way); `failed`; `skipped` (the
   * collector failed recently: spans were sent without waiting); `off`
   * (nothing to flush).
   */
  outcome: "done" | "timeout" | "failed" | "skipped" | "off";
}

/** The started telemetry of this process. */
export interface Telemetry {
  /** The settings it was started with. */
  readonly config: TelemetryConfig;
  /** Exports every finished span, waiting at most `config.flushTimeoutMs`. */
  flush(): Promise<FlushResult>;
  /** Flushes and stops the provider (process exit). */
  shutdown(): Promise<void>;
}

/** Extra options (the warm-up runs without the process's environment). */
export interface TelemetryOptions {
  /** Variable lookup (default `Deno.env.get`). */
  env?: EnvLookup;
}

let contextManagerSet = false;

/** First pause of waiting after a failed flush; doubles up to the maximum. */
export const FLUSH_COOL_DOWN_MS = 5_000;
const MAX_FLUSH_COOL_DOWN_MS = 60_000;

/**
 * Awaits flushes while the collector answers. After a flush fails or times
 * out, later requests send their spans without waiting for the next
 * `coolDownMs` (5 s, doubling to 60 s while it stays down), then wait again:
 * a collector that is down costs one flush timeout per pause, not one per
 * request.
 */
export function flushBreaker(
  flush: () => Promise<void>,
  timeoutMs: number,
  now: () => number = Date.now,
): () => Promise<FlushResult> {
  let skipUntil = 0;
  let coolDownMs = FLUSH_COOL_DOWN_MS;
  return async () => {
    if (now() < skipUntil) {
      flush().catch(() => {});
      return { ms: 0, outcome: "skipped" };
    }
    const result = await bounded(flush, timeoutMs);
    if (result.outcome === "done") {
      coolDownMs = FLUSH_COOL_DOWN_MS;
    } else {
      skipUntil = now() + coolDownMs;
      coolDownMs = Math.min(coolDownMs * 2, MAX_FLUSH_COOL_DOWN_MS);
    }
    return result;
  };
}

/** The SDK's sampler for a setting. */
function samplerOf(setting: SamplerSetting): Sampler {
  const root = setting.root === "always_on"
    ? new AlwaysOnSampler()
    : setting.root === "always_off"
    ? new AlwaysOffSampler()
    : new TraceIdRatioBasedSampler(setting.ratio);
  return setting.parentBased ? new ParentBasedSampler({ root }) : root;
}

/** Async context that follows `await`, so child spans find their parent. */
function ensureContextManager(): void {
  if (contextManagerSet) return;
  context.setGlobalContextManager(
    new AsyncContextManager().enable(),
  );
  contextManagerSet = true;
}

async function bounded(
  work: () => Promise<void>,
  timeoutMs: number,
): Promise<FlushResult> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const outcome = await Promise.race([
      work().then(() => "done" as const, () => "failed" as const),
      timeout,
    ]);
    return { ms: performance.now() - started, outcome };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts telemetry for this process and registers it globally. With no
 * OTLP endpoint spans still get ids (logs, annotations and the response
 * carry them) but nothing is exported; with `OTEL_SDK_DISABLED=true` the
 * API stays a no-op.
 */
export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const config = telemetryConfig(env);
  ensureContextManager();
  if (!config.enabled) {
    return {
      config,
      flush: () => Promise.resolve({ ms: 0, outcome: "off" }),
      shutdown: () => Promise.resolve(),
    };
  }
  const processors: SpanProcessor[] = [];
  if (config.console) processors.push(new SpanTreePrinter());
  if (config.tracesUrl) {
    processors.push(
      new LazyOtlpProcessor({
        url: config.tracesUrl,
        timeoutMs: config.exportTimeoutMs,
        headers: config.exportHeaders,
      }),
    );
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes(config.attributes),
    spanProcessors: processors,
    sampler: samplerOf(config.sampler),
    spanLimits: config.spanLimits,
  });
  trace.setGlobalTracerProvider(provider);
  const flush = processors.length === 0
    ? () => Promise.resolve({ ms: 0, outcome: "off" as const })
    : flushBreaker(() => provider.forceFlush(), config.flushTimeoutMs);
  return {
    config,
    flush,
    shutdown: async () => {
      await bounded(() => provider.shutdown(), config.flushTimeoutMs);
    },
  };
}
