/**
 * A small Kubernetes REST client over kept-alive HTTP/1.1 connections.
 *
 * Every call has a timeout and every failure names the call it came from
 * (method, path, HTTP status and the apiserver's own reason and message).
 * It never logs request or response bodies, so Secret data cannot leak
 * through it. Each call is a client span (method, route template, status
 * code; error status and the exception on failure).
 *
 * @module
 */

import { type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { type PermissionSet, verbOf } from "./permissions.ts";
import { kubeRoute } from "./route.ts";
import { INSTRUMENTATION_NAME } from "../telemetry/config.ts";
import { isRecord, type KubeObject } from "../core/objects.ts";
import { ConnectionError, Http1Client } from "./http1.ts";

const tracer = trace.getTracer(INSTRUMENTATION_NAME);
/** Who the apiserver's audit log says sent a request. */
const USER_AGENT = "mysql-operator-fn";

/** Where and how to reach a kube-apiserver. */
export interface KubeHttpOptions {
  /** Base URL of the apiserver, e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** Bearer token (admin or ServiceAccount). */
  token?: string;
  /** PEM CA bundle that verifies the apiserver's serving certificate. */
  caCert?: string;
  /** PEM client certificate and key (certificate authentication). */
  clientCert?: { cert: string; key: string };
  /** HTTP proxy to an https server (see `proxy.ts`); none: direct. */
  proxy?: string;
  /**
   * Supplies the `Authorization` header value when `token` is not set
   * (rotated ServiceAccount tokens, exec plugins); cached for
   * `authorizationTtlMs`.
   */
  authorization?: () => Promise<string | undefined>;
  /** How long a supplied Authorization value is reused (default 60 s). */
  authorizationTtlMs?: number;
  /** Per-call timeout in milliseconds (default 10 000). */
  timeoutMs?: number;
  /**
   * The declared permission table: a call it does not declare is refused
   * before it is sent ({@linkcode UndeclaredCallError}), so a new call
   * cannot reach production without its RBAC rule.
   */
  permissions?: PermissionSet;
}

/** Options of one request. */
export interface RequestOptions {
  /** JSON-serialisable body, or a string sent as is. */
  body?: unknown;
  /** Content type of the body (default `application/json`). */
  contentType?: string;
  /** Query parameters. */
  query?: Record<string, string>;
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
  /** Overrides the Accept header (e.g. to ask for PartialObjectMetadata). */
  accept?: string;
  /**
   * Non-2xx statuses the caller expects and handles (e.g. 404 for "absent",
   * 409 for "exists"): still thrown, but the call's span is not an error.
   */
  expected?: number[];
}

/** The apiserver answered with a non-2xx status, or could not be reached. */
export class KubeApiError extends Error {
  /** HTTP status, or 0 when no answer came (network error, timeout). */
  readonly status: number;
  /** The `reason` of the apiserver's Status object (e.g. `Forbidden`, `NotFound`). */
  readonly reason: string;
  /** The apiserver's message (or what went wrong on the way). */
  readonly detail: string;

  /** Builds the error for `method path`. */
  constructor(
    method: string,
    path: string,
    status: number,
    reason: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    const what = status === 0 ? "no answer" : `${status} ${reason}`;
    super(`${method} ${path}: ${what}: ${detail}`, options);
    this.name = "KubeApiError";
    this.status = status;
    this.reason = reason;
    this.detail = detail;
  }
}

/** A call that the permission table does not declare (a programming error). */
export class UndeclaredCallError extends Error {
  /** Builds the error naming the call and the missing permission. */
  constructor(method: string, path: string, permission: string) {
    super(
      `${method} ${path} needs ${permission}, which no call declares: add it to the permission table (lib/kube/api.ts) and run deno task manifests`,
    );
    this.name = "UndeclaredCallError";
  }
}

/**
 * A Kubernetes REST client.
 *
 * @example
 * ```ts
 * const kube = new KubeHttp({ server, token, caCert });
 * const ns = await kube.request("GET", "/api/v1/namespaces/default");
 * kube.close();
 * ```
 */
export class KubeHttp {
  /** `server.address` and `server.port` of every call's span. */
  readonly #serverAttributes: {
    "server.address": string;
    "server.port": number;
  };
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #client: Http1Client;
  readonly #authorization: KubeHttpOptions["authorization"];
  readonly #authorizationTtlMs: number;
  readonly #permissions: PermissionSet | undefined;
  // the promise, so that requests sent at once (a pass's first reads)
  // share one read of the credentials
  #cachedAuthorization:
    | { value: Promise<string | undefined>; until: number }
    | undefined;
  #requests = 0;

  /** A client of `options.server`; connections open with the first requests (or {@linkcode KubeHttp.warm}). */
  constructor(options: KubeHttpOptions) {
    const server = new URL(options.server);
    this.#serverAttributes = {
      "server.address": server.hostname,
      "server.port": Number(server.port || 443),
    };
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#authorization = options.authorization;
    this.#authorizationTtlMs = options.authorizationTtlMs ?? 60_000;
    this.#permissions = options.permissions;
    // HTTP/1.1 only (over HTTP/2 every request with a body above ~2 KB
    // waited ~40 ms against kube-apiserver 1.35), on sockets without Nagle
    // (see http1.ts): a connection per concurrent request, up to its limit
    // (more wait)
    this.#client = new Http1Client({
      server: options.server,
      ...(options.caCert ? { caCert: options.caCert } : {}),
      ...(options.clientCert ? { clientCert: options.clientCert } : {}),
      ...(options.proxy ? { proxy: options.proxy } : {}),
    });
  }

  /** How many requests this client has sent (for measurements). */
  get requestCount(): number {
    return this.#requests;
  }

  #authorizationHeader(): Promise<string | undefined> {
    if (this.#token) return Promise.resolve(`Bearer ${this.#token}`);
    if (!this.#authorization) return Promise.resolve(undefined);
    const now = Date.now();
    if (!this.#cachedAuthorization || this.#cachedAuthorization.until <= now) {
      const cached = {
        value: this.#authorization(),
        until: now + this.#authorizationTtlMs,
      };
      this.#cachedAuthorization = cached;
      // a failed read is not kept: the next request reads again
      cached.value.catch(() => {
        if (this.#cachedAuthorization === cached) {
          this.#cachedAuthorization = undefined;
        }
      });
    }
    return this.#cachedAuthorization.value;
  }

  /**
   * Sends one request and returns the parsed JSON answer (or the text when it
   * is not JSON). Throws {@linkcode KubeApiError} on a non-2xx status,
   * a network failure or a timeout.
   */
  request<T = KubeObject>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<T> {
    const route = kubeRoute(path);
    if (this.#permissions && route.resource === "") {
      const url = path.split("?")[0]!;
      const verb = verbOf(method, true);
      if (!verb || !this.#permissions.hasUrl(url, verb)) {
        return Promise.reject(
          new UndeclaredCallError(method, path, `${verb ?? method} ${url}`),
        );
      }
    } else if (this.#permissions) {
      const verb = verbOf(method, route.named);
      const resource = route.subresource
        ? `${route.resource}/${route.subresource}`
        : route.resource;
      if (!verb || !this.#permissions.has(route.group, resource, verb)) {
        return Promise.reject(
          new UndeclaredCallError(
            method,
            path,
            `${verb ?? method} ${route.group || "core"}/${resource}`,
          ),
        );
      }
    }
    return tracer.startActiveSpan(
      `${method} ${route.template}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "http.request.method": method,
          "url.template": route.template,
          ...this.#serverAttributes,
          "k8s.resource": route.resource,
          ...(route.subresource
            ? { "k8s.subresource": route.subresource }
            : {}),
        },
      },
      async (span) => {
        try {
          return await this.#send<T>(method, path, options, span);
        } catch (error) {
          const status = error instanceof KubeApiError ? error.status : 0;
          if (!options.expected?.includes(status)) {
            span.recordException(error as Error);
            span.setStatus({
              code: SpanStatusCode.ERROR,
              message: (error as Error).message,
            });
            span.setAttribute(
              "error.type",
              status === 0 ? "unreachable" : String(status),
            );
          }
          throw error;
        } finally {
          span.end();
        }
      },
    );
  }

  async #send<T>(
    method: string,
    path: string,
    options: RequestOptions,
    span: Span,
  ): Promise<T> {
    // by hand: URL and URLSearchParams cost two Rust calls per request
    const query = Object.entries(options.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join("&");
    const target = query
      ? `${path}${path.includes("?") ? "&" : "?"}${query}`
      : path;
    const headers: [string, string][] = [
      ["accept", options.accept ?? "application/json"],
      ["user-agent", USER_AGENT],
    ];
    const authorization = await this.#authorizationHeader();
    if (authorization) headers.push(["authorization", authorization]);
    let body: string | undefined;
    if (options.body !== undefined) {
      headers.push(["content-type", options.contentType ?? "application/json"]);
      body = typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
    }
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    this.#requests++;
    let response;
    try {
      response = await this.#client.request(
        method,
        target,
        headers,
        body,
        AbortSignal.timeout(timeoutMs),
      );
    } catch (error) {
      // no whole answer: as retryable as no answer at all
      const partial = error instanceof ConnectionError && error.partial;
      const why = describeFailure(
        partial && error.cause instanceof DOMException ? error.cause : error,
        timeoutMs,
      );
      throw new KubeApiError(
        method,
        path,
        0,
        "Unreachable",
        partial ? `reading the answer failed: ${why}` : why,
        { cause: error },
      );
    }
    span.setAttribute("http.response.status_code", response.status);
    const text = response.body;
    const parsed = parseJson(text);
    if (!(response.status >= 200 && response.status < 300)) {
      const status = isRecord(parsed) ? parsed : {};
      throw new KubeApiError(
        method,
        path,
        response.status,
        typeof status.reason === "string" ? status.reason : response.statusText,
        typeof status.message === "string"
          ? status.message
          : text.slice(0, 500),
      );
    }
    return (parsed ?? text) as T;
  }

  /**
   * Opens up to `connections` connections now (TCP and TLS handshakes,
   * no request), so that a later request does not wait for them.
   */
  warm(connections: number): Promise<void> {
    return this.#client.warm(connections);
  }

  /** Closes every connection. */
  close(): void {
    this.#client.close();
  }

  /** Same as {@linkcode KubeHttp.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** What went wrong on the way, for an error message. */
function describeFailure(error: unknown, timeoutMs: number): string {
  return error instanceof DOMException && error.name === "TimeoutError"
    ? `timed out after ${timeoutMs} ms`
    : String(error instanceof Error ? error.message : error);
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
