/**
 * `deno task event <add|update|delete|resync> [file.yaml] [--structured]
 * [--url URL] [--namespace NS]`: sends a running function the CloudEvent the
 * ApiServerSource adapter (or, for `resync`, the PingSource) would send, in
 * binary content mode unless `--structured`, and prints the answer. The
 * object comes from `file.yaml` (default: the minimal sample); its
 * namespace from the file, else `--namespace`, else `default`. The function
 * is at `--url`, else `$FUNCTION_URL`, else the dev loop's address. The
 * sender's token (the function refuses events without one unless its
 * `SENDER_AUTH=insecure-off`) is `--token`, else `$SENDER_TOKEN`, else the
 * one the local dev loop keeps. Exits 1 when the answer is not 2xx, 2 on a
 * usage error.
 *
 * @module
 */

import { parse } from "yaml";
import {
  postEvent,
  resourceEvent,
  type ResourceVerb,
  resyncEvent,
} from "./events.ts";
import { DEV_FUNCTION_PORT, devSenderTokenPath } from "./dev_config.ts";
import { REPO_ROOT } from "./paths.ts";

const USAGE =
  "usage: deno task event <add|update|delete|resync> [file.yaml] [--structured] [--url URL] [--namespace NS] [--token TOKEN]";

/** The parsed command line. */
export interface EventArgs {
  verb: ResourceVerb | "resync";
  file: string;
  structured: boolean;
  url: string;
  namespace?: string;
  /** The sender's bearer token. */
  token?: string;
}

/** Parses the command line; throws a message with the usage on a mistake. */
export function parseEventArgs(
  args: string[],
  env: (name: string) => string | undefined = () => undefined,
): EventArgs {
  const rest = [...args];
  const take = (flag: string) => {
    const at = rest.indexOf(flag);
    if (at < 0) return undefined;
    const value = rest[at + 1];
    if (value === undefined || value.startsWith("--")) {
      throw new Error(`${flag} needs a value\n${USAGE}`);
    }
    rest.splice(at, 2);
    return value;
  };
  const url = take("--url") ?? env("FUNCTION_URL") ??
    `http://127.0.0.1:${DEV_FUNCTION_PORT}/`;
  const namespace = take("--namespace");
  const token = take("--token") ?? env("SENDER_TOKEN");
  const structuredAt = rest.indexOf("--structured");
  if (structuredAt >= 0) rest.splice(structuredAt, 1);
  const unknown = rest.find((a) => a.startsWith("--"));
  if (unknown) throw new Error(`unknown option ${unknown}\n${USAGE}`);
  const [verb, file, extra] = rest;
  if (!verb || !["add", "update", "delete", "resync"].includes(verb)) {
    throw new Error(USAGE);
  }
  if (extra !== undefined) throw new Error(`unexpected ${extra}\n${USAGE}`);
  const parsed: EventArgs = {
    verb: verb as EventArgs["verb"],
    file: file ?? `${REPO_ROOT}/knative/samples/mysqlcluster_minimal.yaml`,
    structured: structuredAt >= 0,
    url,
  };
  if (namespace) parsed.namespace = namespace;
  if (token) parsed.token = token;
  return parsed;
}

async function main(): Promise<number> {
  let args: EventArgs;
  try {
    args = parseEventArgs(Deno.args, (name) => Deno.env.get(name));
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  let event;
  if (args.verb === "resync") event = resyncEvent();
  else {
    let object: Record<string, unknown>;
    try {
      object = parse(await Deno.readTextFile(args.file));
    } catch (error) {
      console.error(`cannot read ${args.file}: ${(error as Error).message}`);
      return 2;
    }
    const metadata = (object.metadata ?? {}) as Record<string, unknown>;
    object.metadata = {
      ...metadata,
      namespace: metadata.namespace ?? args.namespace ?? "default",
    };
    event = resourceEvent(args.verb, object, "https://kubernetes.default.svc");
  }
  const mode = args.structured ? "structured" : "binary";
  const token = args.token ??
    (await Deno.readTextFile(devSenderTokenPath()).catch(() => "")).trim();
  console.log(
    `→ ${event.type} (${mode}) ${event.subject ?? ""} to ${args.url}`,
  );
  const started = performance.now();
  let response: Response;
  try {
    response = await postEvent(args.url, event, mode, token || undefined);
  } catch (error) {
    console.error(
      `no function answers at ${args.url} (${(error as Error).message}); ` +
        "start one with `deno task dev`, or pass --url",
    );
    return 1;
  }
  const text = await response.text();
  const ms = (performance.now() - started).toFixed(1);
  console.log(`← HTTP ${response.status} in ${ms} ms`);
  try {
    console.log(JSON.stringify(JSON.parse(text), null, 2));
  } catch {
    console.log(text);
  }
  return response.ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
