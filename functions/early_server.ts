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
 * out) no longer counts.
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
  let give!: (handler: Handler) => void;
  const given = new Promise<Handler>((resolve) => give = resolve);
  let held = 0;
  const hold = (request: Request): Promise<Response> => {
    if (held >= maxHeld) {
      return Promise.resolve(
        Response.json({
          error:
            `the function is starting and already holds ${held} requests: try again`,
          retry: true,
        }, { status: 503, headers: { "retry-after": "1" } }),
      );
    }
    held++;
    let counted = true;
    const release = () => {
      if (counted) held--;
      counted = false;
    };
    // a sender that gave up (closed its connection) frees its place
    request.signal.addEventListener("abort", release, { once: true });
    return given.then((handler) => {
      release();
      request.signal.removeEventListener("abort", release);
      return handler(request);
    });
  };
  const server = Deno.serve(
    { ...listen, onListen: () => {} },
    (request) => current ? current(request) : hold(request),
  );
  return {
    server,
    get held() {
      return held;
    },
    ready(handler) {
      current ??= handler;
      give(current);
    },
  };
}
