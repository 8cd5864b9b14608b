/**
 * The function's HTTP handler: health endpoints, and `POST /` taking one
 * CloudEvent, reconciling what it points at and answering with what was
 * done. Status codes follow the adapter's retry rules: 2xx done (an invalid
 * spec included), 400 bad event, 413 too large, 503 transient (redelivered),
 * 500 a failure retrying cannot fix.
 *
 * @module
 */

import {
  BadEventError,
  decodeEvent,
  type Ref,
  type Work,
} from "../lib/cloud_events.ts";
import { controllingCluster } from "../lib/cloud_events.ts";
import { isTransient } from "../lib/errors.ts";
import { getOptional, listClusters, objectPath } from "../lib/kube_api.ts";
import type { KubeHttp } from "../lib/kube_http.ts";
import { log } from "../lib/log.ts";
import { generatePassword } from "../lib/password.ts";
import { reconcile, type ReconcileResult } from "../lib/reconcile.ts";

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
}

class TooLargeError extends Error {}

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

/** Creates the request handler. */
export function createHandler(
  options: HandlerOptions,
): (request: Request) => Promise<Response> {
  const context = {
    kube: options.kube,
    now: () => new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    newPassword: () => generatePassword(),
  };

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
        try {
          results.push(await reconcile(context, namespace, name));
        } catch (error) {
          failed.push({
            key: `${namespace}/${name}`,
            error: String((error as Error).message ?? error),
          });
        }
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

  async function handleEvent(request: Request): Promise<Response> {
    const started = performance.now();
    let body: string;
    try {
      body = await readBody(request);
    } catch (error) {
      if (error instanceof TooLargeError) {
        return json(413, {
          error: `request body over ${MAX_BODY_BYTES} bytes`,
        });
      }
      throw error;
    }
    let decoded;
    try {
      decoded = decodeEvent(request.headers, body);
    } catch (error) {
      if (error instanceof BadEventError) {
        log("warn", "bad event", { error: error.message });
        return json(400, { error: error.message });
      }
      throw error;
    }
    const { info } = decoded;
    try {
      const work = decoded.work.kind === "find-owner"
        ? await findOwner(decoded.work.child)
        : decoded.work;
      let answer: Record<string, unknown>;
      if (work.kind === "resync") answer = await resync();
      else if (work.kind === "ignore") {
        answer = { outcome: "ignored", reason: work.reason };
      } else {
        const result = await reconcile(context, work.namespace, work.name);
        answer = { ...result, via: work.via };
      }
      const ms = Math.round(performance.now() - started);
      log("info", "event handled", {
        event: info.id,
        type: info.type,
        ms,
        ...answer,
      });
      return json(200, { event: info.id, ...answer });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const transient = isTransient(error);
      log("error", "event failed", {
        event: info.id,
        type: info.type,
        transient,
        error: message,
      });
      return json(transient ? 503 : 500, {
        event: info.id,
        error: message,
        retry: transient,
      });
    }
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
