/**
 * The function's HTTP handler: health endpoints, and `POST /` taking one
 * CloudEvent, reconciling what it points at and answering with what was
 * done. Status codes follow the adapter's retry rules: 2xx done (an invalid
 * spec included), 400 bad event, 413 too large, 503 transient (redelivered),
 * 500 a failure retrying cannot fix.
 *
 * Each event is one server span continuing the CloudEvent's `traceparent`;
 * the answer says the trace id, and is sent only after the request's spans
 * were flushed (bounded: a slow collector delays it by at most the flush
 * timeout). `Server-Timing` reports the handling and flush durations.
 *
 * @module
 */

import {
  context as contextApi,
  type Span,
  SpanKind,
  trace,
} from "@opentelemetry/api";
import type { Verdict } from "../lib/auth/sender_auth.ts";
import { BadEventError, decodeEvent } from "../lib/events/cloud_events.ts";
import {
  createDispatcher,
  type Dispatcher,
  ExpiredPageError,
} from "../lib/events/dispatch.ts";
import { recordFailure } from "../lib/telemetry/spans.ts";
import {
  InvalidNameError,
  isTransient,
  RefusedError,
} from "../lib/kube/errors.ts";
import { getObject, isChildKind, listClusterPage } from "../lib/kube/api.ts";
import { KubeApiError, type KubeHttp } from "../lib/kube/http.ts";
import { log } from "../lib/telemetry/log.ts";
import { generatePassword } from "../lib/reconcile/password.ts";
import { reconcile } from "../lib/reconcile/reconcile.ts";
import type { FlushResult, Telemetry } from "../lib/telemetry/telemetry.ts";
import { INSTRUMENTATION_NAME } from "../lib/telemetry/config.ts";
import { parentContext } from "../lib/telemetry/trace_context.ts";

const tracer = trace.getTracer(INSTRUMENTATION_NAME);

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** What the handler needs. */
export interface HandlerOptions {
  /** The Kubernetes API. */
  kube: KubeHttp;
  /** Resync scope: one namespace, or every namespace when undefined. */
  namespace?: string;
  /** Time a resync may take before it stops starting new reconciles (default 240 s). */
  resyncBudgetMs?: number;
  /**
   * Verifies each request's sender before anything is read; none: every
   * caller is accepted (`SENDER_AUTH=insecure-off`, or tests of the rest).
   */
  senders?: { verify(authorization: string | null): Promise<Verdict> };
  /** Flushes each request's spans before it answers (none: nothing to flush). */
  telemetry?: Pick<Telemetry, "flush">;
}

/** What one event's handling produced, before telemetry is flushed. */
interface Outcome {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

class TooLargeError extends Error {}

type Decoded = ReturnType<typeof decodeEvent>;

async function readBody(request: Request): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new TooLargeError();
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw new TooLargeError();
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

function json(status: number, body: Record<string, unknown>): Response {
  return Response.json(body, { status });
}

function faasTrigger(type: string | undefined): string {
  if (type === undefined) return "other";
  return type === "dev.knative.sources.ping" ? "timer" : "pubsub";
}

/** The dispatcher over the real API: passes, owner lookups and the resync's list. */
function dispatcherFor(options: HandlerOptions): Dispatcher {
  const context = {
    kube: options.kube,
    now: () => new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    newPassword: () => generatePassword(),
  };
  return createDispatcher({
    reconcile: (namespace, name, seen, fresh) =>
      reconcile(context, namespace, name, seen, fresh),
    readable: isChildKind,
    readObject: (ref) => getObject(options.kube, ref),
    listClusterPage: async (request) => {
      try {
        return await listClusterPage(options.kube, request, options.namespace);
      } catch (error) {
        if (error instanceof KubeApiError && error.status === 410) {
          throw new ExpiredPageError(error.message);
        }
        throw error;
      }
    },
    flush: options.telemetry && (() => options.telemetry!.flush()),
    resyncBudgetMs: options.resyncBudgetMs,
  });
}

/** Creates the request handler. */
export function createHandler(
  options: HandlerOptions,
): (request: Request) => Promise<Response> {
  const dispatch = dispatcherFor(options);
  let coldStart = true;

  /** Decodes, does the work, and says how it went; spans go on `span`. */
  async function handle(
    decoded: Decoded | BadEventError,
    span: Span,
    started: number,
    abandoned: () => AbortSignal,
  ): Promise<Outcome> {
    if (decoded instanceof BadEventError) {
      span.updateName("reject");
      span.setAttribute("error.type", "bad_event");
      log("warn", "bad event", { error: decoded.message });
      return { status: 400, body: { error: decoded.message } };
    }
    const { info } = decoded;
    span.setAttributes({
      "cloudevents.event_id": info.id,
      "cloudevents.event_type": info.type,
      "cloudevents.event_source": info.source,
      "faas.trigger": faasTrigger(info.type),
      "faas.invocation_id": info.id,
      ...(info.subject ? { "cloudevents.event_subject": info.subject } : {}),
    });
    const dispatched = await dispatch(decoded.work, abandoned);
    if (dispatched.ok) {
      span.setAttribute("mysql.outcome", String(dispatched.answer.outcome));
      log("info", "event handled", {
        event: info.id,
        type: info.type,
        ms: Math.round(performance.now() - started),
        ...dispatched.answer,
      });
      return { status: 200, body: { event: info.id, ...dispatched.answer } };
    }
    const { error, key } = dispatched;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof InvalidNameError || error instanceof RefusedError) {
      span.setAttribute("error.type", "refused");
      log("warn", "event refused", { event: info.id, error: message });
      return { status: 400, body: { event: info.id, error: message } };
    }
    const transient = isTransient(error);
    recordFailure(span, error);
    span.setAttribute("error.type", transient ? "transient" : "failure");
    log("error", "event failed", {
      event: info.id,
      type: info.type,
      ...(key ? { key } : {}),
      transient,
      error: message,
    });
    return {
      status: transient ? 503 : 500,
      body: { event: info.id, error: message, retry: transient },
    };
  }

  /** Who sent the request, or the answer refusing it (nothing read yet). */
  async function checkSender(
    request: Request,
  ): Promise<{ sender?: string; refusal?: Outcome }> {
    if (!options.senders) return {};
    let verdict: Verdict;
    try {
      verdict = await options.senders.verify(
        request.headers.get("authorization"),
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        refusal: {
          status: 503,
          body: { error: `cannot verify the sender: ${message}`, retry: true },
        },
      };
    }
    if (verdict.ok) return { sender: verdict.sender };
    return {
      refusal: {
        status: verdict.status,
        body: { error: verdict.error },
        ...(verdict.status === 401
          ? {
            headers: {
              "www-authenticate":
                `Bearer realm="mysql-operator-fn", error="invalid_token"`,
            },
          }
          : {}),
      },
    };
  }

  async function handleEvent(request: Request): Promise<Response> {
    const started = performance.now();
    const startTime = Date.now();
    // who sent it comes first: a refused request is not even read
    const { sender, refusal } = await checkSender(request);
    let body: string | undefined;
    if (!refusal) {
      try {
        body = await readBody(request);
      } catch (error) {
        if (!(error instanceof TooLargeError)) throw error;
      }
    }
    let decoded: Decoded | BadEventError | undefined;
    if (body !== undefined) {
      try {
        decoded = decodeEvent(request.headers, body);
      } catch (error) {
        if (!(error instanceof BadEventError)) throw error;
        decoded = error;
      }
    }
    log("debug", "request received", {
      bytes: body?.length,
      event: decoded instanceof BadEventError ? undefined : decoded?.info.id,
    });
    const parent = parentContext(
      decoded instanceof BadEventError ? undefined : decoded?.info,
      {
        traceparent: request.headers.get("traceparent") ?? undefined,
        tracestate: request.headers.get("tracestate") ?? undefined,
      },
    );
    const span = tracer.startSpan(refusal ? "reject" : "event", {
      kind: SpanKind.SERVER,
      startTime,
      attributes: {
        "http.request.method": request.method,
        "url.path": "/",
        "faas.coldstart": coldStart,
        "faas.trigger": faasTrigger(undefined),
        "mysql.sender_auth": options.senders ? "oidc" : "off",
        ...(sender ? { "enduser.id": sender } : {}),
      },
    }, parent);
    coldStart = false;
    let outcome: Outcome;
    try {
      if (refusal) {
        span.setAttribute(
          "error.type",
          refusal.status === 401
            ? "unauthenticated"
            : refusal.status === 403
            ? "forbidden"
            : "unavailable",
        );
        contextApi.with(
          trace.setSpan(parent, span),
          () =>
            log("warn", "sender refused", {
              status: refusal.status,
              error: refusal.body.error,
            }),
        );
      }
      outcome = refusal ? refusal : decoded === undefined
        ? {
          status: 413,
          body: { error: `request body over ${MAX_BODY_BYTES} bytes` },
        }
        : await contextApi.with(
          trace.setSpan(parent, span),
          // taken by a resync only (Deno warns of `request.signal`'s
          // legacy abort once it is read): it stops when its sender leaves
          () => handle(decoded, span, started, () => request.signal),
        );
    } catch (error) {
      recordFailure(span, error);
      outcome = { status: 500, body: { error: String(error) } };
    }
    const handledMs = performance.now() - started;
    span.setAttribute("http.response.status_code", outcome.status);
    const { traceId } = span.spanContext();
    span.end();
    const flushed: FlushResult = await (options.telemetry?.flush() ??
      Promise.resolve({ ms: 0, outcome: "off" as const }));
    if (flushed.outcome === "timeout" || flushed.outcome === "failed") {
      contextApi.with(
        trace.setSpan(parent, span),
        () =>
          log("warn", "spans not exported before answering", {
            outcome: flushed.outcome,
            ms: Math.round(flushed.ms),
          }),
      );
    }
    const response = json(outcome.status, {
      ...outcome.body,
      ...(traceId !== "00000000000000000000000000000000" ? { traceId } : {}),
      ms: Math.round(handledMs),
    });
    for (const [name, value] of Object.entries(outcome.headers ?? {})) {
      response.headers.set(name, value);
    }
    response.headers.set(
      "server-timing",
      `handle;dur=${handledMs.toFixed(2)}, flush;dur=${
        flushed.ms.toFixed(2)
      };desc="${flushed.outcome}"`,
    );
    return response;
  }

  return async (request: Request): Promise<Response> => {
    const { pathname } = new URL(request.url);
    if (pathname === "/healthz" || pathname === "/readyz") {
      return new Response("ok\n");
    }
    if (pathname !== "/") return json(404, { error: `no route ${pathname}` });
    if (request.method !== "POST") {
      return json(405, { error: "POST a CloudEvent to /" });
    }
    return await handleEvent(request);
  };
}
