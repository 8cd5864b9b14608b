/**
 * Settings the dev loop and `deno task event` share.
 *
 * @module
 */

/**
 * Where `deno task dev` serves the function unless `PORT` says otherwise
 * (not 8080: the ApiServerSource adapter binds :8080 for its probes).
 */
export const DEV_FUNCTION_PORT = 8081;
