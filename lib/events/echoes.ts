/**
 * Echoes of a cluster's own passes. An add or update event whose object is
 * at a resourceVersion the cluster's last pass read or left it at — its own
 * write echoed back (the status it wrote, the StatefulSet it applied), or a
 * version it had already reconciled — proves nothing changed since that
 * pass: it is answered with no API call. Anything else, a delete
 * included, still reads the cluster. The record is bounded (the oldest
 * cluster goes first) and a failed pass forgets its cluster, so a lost or
 * reordered event costs at most one extra pass, never a missed one.
 *
 * @module
 */

import type { EventObject } from "./cloud_events.ts";

/** Clusters remembered at most. */
export const ECHO_RECORD_LIMIT = 10_000;

/** The resourceVersions each cluster's last pass read or left, by `Kind/name`. */
export class EchoRecord {
  readonly #passes = new Map<string, ReadonlyMap<string, readonly string[]>>();
  readonly #limit: number;

  /** A record of at most `limit` clusters. */
  constructor(limit: number = ECHO_RECORD_LIMIT) {
    this.#limit = limit;
  }

  /** Records what the last pass of `cluster` read or left (replacing the previous). */
  record(
    cluster: string,
    versions: Readonly<Record<string, readonly string[]>>,
  ): void {
    this.#passes.delete(cluster);
    this.#passes.set(cluster, new Map(Object.entries(versions)));
    if (this.#passes.size > this.#limit) {
      this.#passes.delete(this.#passes.keys().next().value!);
    }
  }

  /** Forgets `cluster` (its pass failed, or it is gone). */
  forget(cluster: string): void {
    this.#passes.delete(cluster);
  }

  /** True when `object` is at a version the last pass of `cluster` read or left. */
  isEcho(cluster: string, object: EventObject): boolean {
    return this.#passes.get(cluster)?.get(object.key)?.includes(
      object.resourceVersion,
    ) ?? false;
  }

  /** Clusters remembered (for tests and diagnostics). */
  get size(): number {
    return this.#passes.size;
  }
}
