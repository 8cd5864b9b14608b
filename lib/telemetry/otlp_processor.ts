/**
 * The OTLP/HTTP export, loaded off the cold-start path: the exporter and
 * what it pulls in (Node's http compatibility layer) cost a cold start
 * ~35 ms and ~8 MiB when imported up front. The import starts when
 * telemetry starts and runs while the function gets ready; spans that end
 * before it is done are kept (bounded) and handed over, and a flush waits
 * for it.
 *
 * @module
 */

// sdk-trace-base's BatchSpanProcessor reads OTEL_BSP_* through Node's
// `process` (its options are set here)
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace";
import type {
  Context,
  ReadableSpan,
  SdkSpan,
  SpanProcessor,
} from "./span_tree.ts";

/**
 * Spans kept while the exporter loads, and then in its queue (more are
 * dropped).
 */
const QUEUE_LIMIT = 2048;

/** How the export is configured. */
export interface OtlpSettings {
  /** The traces URL (`…/v1/traces`). */
  url: string;
  /** Export timeout, milliseconds. */
  timeoutMs: number;
  /** Headers of each export (a collector's credentials, say). */
  headers: Record<string, string>;
}

/** A span processor batching to OTLP/HTTP, whose exporter loads in the background. */
export class LazyOtlpProcessor implements SpanProcessor {
  readonly #ready: Promise<SpanProcessor>;
  #processor: SpanProcessor | undefined;
  #pending: ReadableSpan[] = [];

  /** Starts loading the exporter for `settings`. */
  constructor(settings: OtlpSettings) {
    // the exporter's fetch build: its Node build sends through node:http and
    // brings CommonJS requires that load Node's module loader at every start
    this.#ready = import(
      "@opentelemetry/exporter-trace-otlp-http/build/src/platform/browser/index.js"
    ).then((
      { OTLPTraceExporter },
    ) => {
      const processor = new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({
          url: settings.url,
          timeoutMillis: settings.timeoutMs,
          headers: settings.headers,
        }),
        // a request's spans go out in one export at flush time
        scheduledDelayMillis: 60_000,
        maxExportBatchSize: 512,
        maxQueueSize: QUEUE_LIMIT,
        exportTimeoutMillis: settings.timeoutMs,
      });
      for (const span of this.#pending) processor.onEnd(span);
      this.#pending = [];
      this.#processor = processor;
      return processor;
    });
    // a failed load is seen by each flush; never an unhandled rejection
    this.#ready.catch(() => {});
  }

  /** Nothing to do when a span starts. */
  onStart(_span: SdkSpan, _context: Context): void {}

  /** Queues the span for export (kept until the exporter is loaded). */
  onEnd(span: ReadableSpan): void {
    if (this.#processor) this.#processor.onEnd(span);
    else if (this.#pending.length < QUEUE_LIMIT) this.#pending.push(span);
  }

  /** Exports every queued span (once the exporter is loaded). */
  async forceFlush(): Promise<void> {
    await (await this.#ready).forceFlush();
  }

  /** Flushes and stops. */
  async shutdown(): Promise<void> {
    await (await this.#ready).shutdown();
  }
}
