/**
 * Structured logs: one JSON line per message on stdout. Callers pass keys
 * and outcomes, never object bodies, so no Secret value can reach a log.
 * Inside a request each line carries the active `trace_id` and `span_id`.
 * `LOG_LEVEL` (debug, info, warn, error; default info) sets the threshold.
 *
 * @module
 */

import { activeIds } from "./trace_context.ts";

/** Severity of a log line. */
export type Level = "debug" | "info" | "warn" | "error";

const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
let threshold: number | undefined;

function minimum(): number {
  if (threshold === undefined) {
    let level: string | undefined;
    try {
      level = Deno.env.get("LOG_LEVEL");
    } catch {
      // no env permission: keep the default
    }
    threshold = ORDER[(level ?? "info") as Level] ?? ORDER.info;
  }
  return threshold;
}

/** Overrides `LOG_LEVEL` (`silent`: nothing is written). */
export function setLogLevel(level: Level | "silent"): void {
  threshold = level === "silent" ? Infinity : ORDER[level];
}

/** Writes one JSON log line if `level` is at or above `LOG_LEVEL`. */
export function log(
  level: Level,
  message: string,
  fields: Record<string, unknown> = {},
): void {
  if (ORDER[level] < minimum()) return;
  const ids = activeIds();
  const line = JSON.stringify({
    time: new Date().toISOString(),
    level,
    message,
    ...(ids ? { trace_id: ids.traceId, span_id: ids.spanId } : {}),
    ...fields,
  });
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}
