/**
 * Which HTTP proxy reaches an https apiserver, from the environment, as
 * `fetch` (which the client used before) decides it: `HTTPS_PROXY` (upper
 * or lower case), unless `NO_PROXY` names the host: `*`, the host itself,
 * or a domain it is in (`example.com` and `.example.com` both cover
 * `api.example.com`). A port in an entry is ignored; IP ranges (CIDR) are
 * not understood. An http server (`kubectl proxy`) is reached directly.
 *
 * @module
 */

import type { EnvLookup } from "../telemetry/config.ts";
import { hostOf } from "./http1.ts";

function either(env: EnvLookup, name: string): string | undefined {
  return env(name) || env(name.toLowerCase()) || undefined;
}

/** The proxy URL for requests to `server`, or `undefined` to go direct. */
export function proxyFor(server: string, env: EnvLookup): string | undefined {
  const url = new URL(server);
  const proxy = either(env, "HTTPS_PROXY");
  if (url.protocol !== "https:" || !proxy) return undefined;
  const host = hostOf(url);
  const bypass = (either(env, "NO_PROXY") ?? "").split(",")
    .map((entry) =>
      entry.trim().toLowerCase().replace(/^\[(.*)\](:\d+)?$/, "$1")
        .replace(/^([^:]+):\d+$/, "$1").replace(/^\*?\./, "")
    )
    .filter((entry) => entry !== "");
  if (
    bypass.some((entry) =>
      entry === "*" || host === entry || host.endsWith(`.${entry}`)
    )
  ) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}
