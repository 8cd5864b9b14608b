/**
 * Which failures are worth a redelivery: the ApiServerSource adapter retries
 * 404, 413, 425, 429, 502, 503 and 504 (never 500), so a transient failure is
 * answered 503 and anything retrying cannot fix is answered 500.
 *
 * @module
 */

import { KubeApiError } from "./http.ts";

/**
 * kube-apiserver's answer when it could not allocate a Service's cluster IP
 * for a reason other than a full range (with the IPAddress allocator, e.g.
 * its own loopback client refused while it shuts down): 422 Invalid on
 * `spec.clusterIPs`, a field the function never sets (kubernetes
 * `pkg/registry/core/service/storage/alloc.go`, "failed to allocate IP:").
 */
const IP_ALLOCATION_FAILED =
  /spec\.clusterIPs: Invalid value: .*failed to allocate IP: /;

/**
 * True for failures a later attempt may not meet: unreachable API, timeouts,
 * 429, 5xx, and a Service's cluster IP the apiserver failed to allocate.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof KubeApiError)) return false;
  return error.status === 0 || error.status === 429 || error.status >= 500 ||
    (error.status === 422 && IP_ALLOCATION_FAILED.test(error.detail));
}

/**
 * A namespace or name that is not a valid DNS-1123 name: it never goes
 * into an API path (answered 400, never retried).
 */
export class InvalidNameError extends Error {
  /** Builds the error for `what` (e.g. `namespace`) of value `value`. */
  constructor(what: string, value: string) {
    super(
      `${what} ${
        JSON.stringify(value.slice(0, 300))
      } is not a valid DNS-1123 name`,
    );
    this.name = "InvalidNameError";
  }
}

/** An event or object this function refuses to act on (answered 400, never retried). */
export class RefusedError extends Error {
  /** Builds the error with a message for the sender. */
  constructor(message: string) {
    super(message);
    this.name = "RefusedError";
  }
}
