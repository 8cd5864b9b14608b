/**
 * An HTTP server that listens before the function is ready to answer.
 *
 * Whoever waits for a cold function — Knative's queue-proxy probing the
 * readiness endpoint every 50 ms, the activator, a test polling `/readyz` —
 * learns that it is ready only at its next try. A server that listens from
 * the first milliseconds of the process holds every request (a readiness
 * probe included) until {@linkcode EarlyServer.ready} hands it the handler,
 * and answers it at once then: no polling interval is lost, and no try
 * is refused meanwhile.
 *
 * @module
 */

/** What answers the function's requests once it is ready. */
export type Handler = (request: Request) => Promise<Response>;

/** A server listening before its handler is known. */
export interface EarlyServer {
  /** The listening server (its `shutdown` stops it). */
  server: Deno.HttpServer<Deno.NetAddr>;
  /**
   * Starts answering with `handler`, the requests held until now
   * included. Only the first call counts.
   */
  ready(handler: Handler): void;
}

/**
 * Listens on `hostname:port` now; every request waits until
 * {@linkcode EarlyServer.ready} gives the handler.
 */
export function listenEarly(
  options: { port: number; hostname: string },
): EarlyServer {
  let current: Handler | undefined;
  let give!: (handler: Handler) => void;
  const given = new Promise<Handler>((resolve) => give = resolve);
  const server = Deno.serve(
    { ...options, onListen: () => {} },
    (request) =>
      current ? current(request) : given.then((handler) => handler(request)),
  );
  return {
    server,
    ready(handler) {
      current ??= handler;
      give(current);
    },
  };
}
