/**
 * Structured logs: one JSON line per message on stdout. Callers pass keys
 * and outcomes, never object bodies, so no Secret value can reach a log.
 *
 * @module
 */

/** Severity of a log line. */
export type Level = "debug" | "info" | "warn" | "error";

/** Writes one JSON log line. */
export function log(
  level: Level,
  message: string,
  fields: Record<string, unknown> = {},
): void {
  const line = JSON.stringify({
    time: new Date().toISOString(),
    level,
    message,
    ...fields,
  });
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
}
