/**
 * Where a request's trace continues from: the CloudEvent's distributed
 * tracing extension (`traceparent` / `tracestate`, `ce-` headers in binary
 * mode, attributes in structured mode), else the HTTP request's own W3C
 * `traceparent` header, else a new trace.
 *
 * @module
 */

import type * as otel from "@opentelemetry/api";
import {
  context as contextApi,
  isSpanContextValid,
  ROOT_CONTEXT,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

/** An OpenTelemetry context. */
export type Context = otel.Context;

const propagator = new W3CTraceContextPropagator();

const getter = {
  get: (carrier: Record<string, string | undefined>, key: string) =>
    carrier[key],
  keys: (carrier: Record<string, string | undefined>) => Object.keys(carrier),
};

/** The W3C trace context found on an event or a request. */
export interface TraceHeaders {
  /** W3C `traceparent`. */
  traceparent?: string | undefined;
  /** W3C `tracestate`. */
  tracestate?: string | undefined;
}

/**
 * The parent context for a request's server span: from `event` when it
 * carries a valid traceparent, else from `http`, else the root context.
 */
export function parentContext(
  event: TraceHeaders | undefined,
  http: TraceHeaders,
): Context {
  for (const carrier of [event, http]) {
    if (!carrier?.traceparent) continue;
    const extracted = propagator.extract(
      ROOT_CONTEXT,
      { traceparent: carrier.traceparent, tracestate: carrier.tracestate },
      getter,
    );
    const span = trace.getSpanContext(extracted);
    if (span && isSpanContextValid(span)) return extracted;
  }
  return ROOT_CONTEXT;
}

/** The active trace and span ids, when there is a valid span. */
export function activeIds(): { traceId: string; spanId: string } | undefined {
  const span = trace.getSpan(contextApi.active());
  const ids = span?.spanContext();
  if (!ids || !isSpanContextValid(ids)) return undefined;
  return { traceId: ids.traceId, spanId: ids.spanId };
}
