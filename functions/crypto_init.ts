/**
 * Starts the TLS library's one-time set-up on a background thread, as the
 * process starts.
 *
 * Deno's first TLS connection pays a one-time initialisation of its crypto
 * library, 30–50 ms of CPU, inside the synchronous `Deno.startTls` call: on
 * the main thread, after the function is listening, in front of the first
 * event. Generating a P-256 key with WebCrypto runs on Deno's blocking
 * thread pool and performs that same initialisation there, so it overlaps
 * with the module code, the configuration and the telemetry's start; the
 * first `startTls` then takes ~2 ms (measured on this machine, Deno 2.9).
 * The key is thrown away, and so is a failure (the first `startTls` then
 * pays the set-up itself). Imported first by `main.ts`, for this effect
 * only: it exports nothing.
 *
 * @module
 */

crypto.subtle
  .generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])
  .catch(() => {});
