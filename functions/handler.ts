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
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import {
  BadEventError,
  controllingCluster,
  decodeEvent,
  type Ref,
  type Work,
} from "../lib/events/cloud_events.ts";
import { isTransient } from "../lib/kube/errors.ts";
import { KeySerializer } from "../lib/events/key_serializer.ts";
import { getOptional, listClusters, objectPath } from "../lib/kube/api.ts";
import type { KubeHttp } from "../lib/kube/http.ts";
import { log } from "../lib/telemetry/log.ts";
import { generatePassword } from "../lib/reconcile/password.ts";
import { reconcile, type ReconcileResult } from "../lib/reconcile/reconcile.ts";
import type { FlushResult, Telemetry } from "../lib/telemetry/telemetry.ts";
import { INSTRUMENTATION_NAME } from "../lib/telemetry/config.ts";
import { parentContext } from "../lib/telemetry/trace_context.ts";

const tracer = trace.getTracer(INSTRUMENTATION_NAME);

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** What the handler needs. */
export interface HandlerOptions {
  kube: KubeHttp;
  /** Resync scope: one namespace, or every namespace when undefined. */
  namespace?: string;
  /** Clusters reconciled at once during a resync (default 4). */
  resyncConcurrency?: number;
  /** Time a resync may take before it stops starting new reconciles (default 240 s). */
  resyncBudgetMs?: number;
  /** Flushes each request's spans before it answers (none: nothing to flush). */
  telemetry?: Pick<Telemetry, "flush">;
}

/** What one event's handling produced, before telemetry is flushed. */
interface Outcome {
  status: number;
  body: Record<string, unknown>;
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

/** Creates the request handler. */
export function createHandler(
  options: HandlerOptions,
): (request: Request) => Promise<Response> {
  const context = {
    kube: options.kube,
    now: () => new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    newPassword: () => generatePassword(),
  };
  // one reconcile per cluster at a time, in arrival order
  const serializer = new KeySerializer();
  const reconcileOne = (namespace: string, name: string) =>
    serializer.run(
      `${namespace}/${name}`,
      () => reconcile(context, namespace, name),
    );

  async function findOwner(
    child: Ref,
  ): Promise<Exclude<Work, { kind: "find-owner" }>> {
    let path: string;
    try {
      path = objectPath(child);
    } catch {
      return {
        kind: "ignore",
        reason: `kind ${child.kind} is not one the operator manages`,
      };
    }
    const object = await getOptional(options.kube, path);
    const owner = object ? controllingCluster(object) : undefined;
    return owner
      ? {
        kind: "reconcile",
        namespace: child.namespace,
        name: owner,
        via: `${child.kind} ${child.namespace}/${child.name}`,
      }
      : {
        kind: "ignore",
        reason:
          `${child.kind} ${child.namespace}/${child.name} is not controlled by a MySQLCluster`,
      };
  }

  async function resync(): Promise<Record<string, unknown>> {
    const clusters = await listClusters(options.kube, options.namespace);
    const deadline = Date.now() + (options.resyncBudgetMs ?? 240_000);
    const queue = [...clusters];
    const results: ReconcileResult[] = [];
    const failed: { key: string; error: string }[] = [];
    const worker = async () => {
      for (let cluster = queue.shift(); cluster; cluster = queue.shift()) {
        if (Date.now() > deadline) return;
        const { namespace = "default", name } = cluster.metadata;
        await tracer.startActiveSpan("reconcile", async (span) => {
          try {
            results.push(await reconcileOne(namespace, name));
          } catch (error) {
            span.recordException(error as Error);
            span.setStatus({
              code: SpanStatusCode.ERROR,
              message: (error as Error).message,
            });
            failed.push({
              key: `${namespace}/${name}`,
              error: String((error as Error).message ?? error),
            });
          } finally {
            span.end();
          }
        });
      }
    };
    await Promise.all(
      Array.from({ length: options.resyncConcurrency ?? 4 }, worker),
    );
    return {
      outcome: "resynced",
      total: clusters.length,
      done: results.length,
      changed: results.filter((r) => r.writes.length > 0).map((r) => r.key),
      failed,
      skipped: queue.length,
    };
  }

  let coldStart = true;

  /** Decodes, does the work, and says how it went; spans go on `span`. */
  async function handle(
    decoded: Decoded | BadEventError,
    span: Span,
    started: number,
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
    let key: string | undefined;
    try {
      const work = decoded.work.kind === "find-owner"
        ? await findOwner(decoded.work.child)
        : decoded.work;
      if (work.kind === "reconcile") key = `${work.namespace}/${work.name}`;
      let answer: Record<string, unknown>;
      if (work.kind === "resync") {
        span.updateName("resync");
        answer = await resync();
      } else if (work.kind === "ignore") {
        span.updateName("ignore");
        answer = { outcome: "ignored", reason: work.reason };
      } else {
        span.updateName("reconcile");
        span.setAttribute("mysql.via", work.via);
        const result = await reconcileOne(work.namespace, work.name);
        answer = { ...result, via: work.via };
      }
      span.setAttribute("mysql.outcome", String(answer.outcome));
      log("info", "event handled", {
        event: info.id,
        type: info.type,
        ms: Math.round(performance.now() - started),
        ...answer,
      });
      return { status: 200, body: { event: info.id, ...answer } };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const transient = isTransient(error);
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
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
  }

  async function handleEvent(request: Request): Promise<Response> {
    const started = performance.now();
    const startTime = Date.now();
    let body: string | undefined;
    try {
      body = await readBody(request);
    } catch (error) {
      if (!(error instanceof TooLargeError)) throw error;
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
    const span = tracer.startSpan("event", {
      kind: SpanKind.SERVER,
      startTime,
      attributes: {
        "http.request.method": request.method,
        "url.path": "/",
        "faas.coldstart": coldStart,
        "faas.trigger": faasTrigger(undefined),
      },
    }, parent);
    coldStart = false;
    let outcome: Outcome;
    try {
      outcome = decoded === undefined
        ? {
          status: 413,
          body: { error: `request body over ${MAX_BODY_BYTES} bytes` },
        }
        : await contextApi.with(
          trace.setSpan(parent, span),
          () => handle(decoded, span, started),
        );
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: (error as Error).message,
      });
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
