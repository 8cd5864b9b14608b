/**
 * Opens the function's port (`$PORT`, default 8080) as the process starts,
 * before the rest of the module code runs and the function sets up:
 * requests that arrive meanwhile, readiness probes included, are held and
 * answered as soon as `main.ts` is ready (see `early_server.ts`). Imported
 * by `main.ts` right after `crypto_init.ts`, for this effect; not under
 * `--warm-up` (the image build), which serves nothing. A SIGTERM or SIGINT
 * in the few milliseconds before `main.ts`'s own code runs (and takes them
 * over, answering what is held 503) ends the process at once: what was held
 * is cut, and its senders retry.
 *
 * @module
 */

import { type EarlyServer, listenEarly } from "./early_server.ts";

/** The port to listen on, as given (`$PORT`, default 8080). */
export const PORT: string = Deno.env.get("PORT") ?? "8080";

function listen(): EarlyServer | Error {
  try {
    return listenEarly({
      port: Number(PORT),
      hostname: "0.0.0.0",
    });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** The port opened at start; why it could not be; nothing under `--warm-up`. */
export const early: EarlyServer | Error | undefined =
  Deno.args.includes("--warm-up") ? undefined : listen();
