/**
 * Which failures are worth a redelivery: the ApiServerSource adapter retries
 * 404, 413, 425, 429, 502, 503 and 504 (never 500), so a transient failure is
 * answered 503 and anything retrying cannot fix is answered 500.
 *
 * @module
 */

import { KubeApiError } from "./http.ts";

/** True for failures a later attempt may not meet: unreachable API, timeouts, 429, 5xx. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof KubeApiError)) return false;
  return error.status === 0 || error.status === 429 || error.status >= 500;
}
