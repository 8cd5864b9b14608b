/**
 * An HTTP server that listens before the function is ready to answer.
 *
 * Whoever waits for a cold function — Knative's queue-proxy probing the
 * readiness endpoint every 50 ms, the activator, a test polling `/readyz` —
 * learns that it is ready only at its next try. A server that listens from
 * the first milliseconds of the process holds every request (a readiness
 * probe included) until {@linkcode EarlyServer.ready} hands it the handler,
 * and answers it at once then: no polling interval is lost, and no try
 * is refused meanwhile. What it holds is bounded: a request beyond
 * {@linkcode MAX_HELD} is answered 503 with `Retry-After` at once (the
 * sources redeliver it), and one whose sender gave up (a probe that timed
 * out) is let go: it no longer counts and is never handled.
 *
 * @module
 */

/** What answers the function's requests once it is ready. */
export type Handler = (request: Request) => Promise<Response>;

/** Requests held at most before the handler is known (the default). */
export const MAX_HELD = 64;

/** A server listening before its handler is known. */
export interface EarlyServer {
  /** The listening server (its `shutdown` stops it). */
  server: Deno.HttpServer<Deno.NetAddr>;
  /** Requests held now, waiting for the handler. */
  readonly held: number;
  /**
   * Starts answering with `handler`, the requests held until now
   * included. Only the first call counts.
   */
  ready(handler: Handler): void;
}

/**
 * Listens on `hostname:port` now; every request waits until
 * {@linkcode EarlyServer.ready} gives the handler, up to `maxHeld` of them
 * at a time (default {@linkcode MAX_HELD}); one more is answered 503.
 */
export function listenEarly(
  options: { port: number; hostname: string; maxHeld?: number },
): EarlyServer {
  const { maxHeld = MAX_HELD, ...listen } = options;
  let current: Handler | undefined;
  /** What is held: each request with what answers it, and its abort's listener. */
  const held = new Set<
    {
      request: Request;
      answer: (response: Response | Promise<Response>) => void;
      onAbort: () => void;
    }
  >();
  const hold = (request: Request): Promise<Response> => {
    if (held.size >= maxHeld) {
      return Promise.resolve(
        Response.json({
          error:
            `the function is starting and already holds ${held.size} requests: try again`,
          retry: true,
        }, { status: 503, headers: { "retry-after": "1" } }),
      );
    }
    return new Promise<Response>((answer) => {
      // a sender that gave up (closed its connection) frees its place and
      // is never handled: nobody would read the answer
      const onAbort = () => {
        held.delete(entry);
        answer(new Response(null, { status: 503 }));
      };
      const entry = { request, answer, onAbort };
      if (request.signal.aborted) return onAbort();
      held.add(entry);
      request.signal.addEventListener("abort", onAbort, { once: true });
    });
  };
  const server = Deno.serve(
    { ...listen, onListen: () => {} },
    (request) => current ? current(request) : hold(request),
  );
  return {
    server,
    get held() {
      return held.size;
    },
    ready(handler) {
      current ??= handler;
      for (const { request, answer, onAbort } of held) {
        request.signal.removeEventListener("abort", onAbort);
        answer(current(request));
      }
      held.clear();
    },
  };
}
