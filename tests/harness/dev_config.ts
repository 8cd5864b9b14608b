/**
 * Settings the dev loop and `deno task event` share.
 *
 * @module
 */

import { cacheDir } from "./paths.ts";

/**
 * Where `deno task dev` serves the function unless `PORT` says otherwise
 * (not 8080: the ApiServerSource adapter binds :8080 for its probes).
 */
export const DEV_FUNCTION_PORT = 8081;

/**
 * Where the local dev loop keeps a sender token (the resync source's, for
 * the function's audience) for `deno task event`; removed when it stops.
 */
export function devSenderTokenPath(): string {
  return `${cacheDir()}/dev-sender-token`;
}
