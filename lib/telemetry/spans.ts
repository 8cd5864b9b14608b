/**
 * Small helpers on OpenTelemetry spans shared by the edges.
 *
 * @module
 */

import type * as otel from "@opentelemetry/api";
import { SpanStatusCode } from "@opentelemetry/api";

/** An OpenTelemetry span (`@opentelemetry/api`). */
export type Span = otel.Span;

/** Marks `span` failed with `error`: the exception event and ERROR status. */
export function recordFailure(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.recordException(error instanceof Error ? error : new Error(message));
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}
