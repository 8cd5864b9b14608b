/**
 * Executing a plan: each wave's writes concurrently, the next wave once
 * every write of the previous one has settled, nothing more after a
 * failure. Every write becomes one API call and, when it is done, the span
 * event its plan entry names. Nothing is decided here: what to write and
 * why is the plan's.
 *
 * @module
 */

import { childKey } from "../core/objects.ts";
import { ensured, type Plan, type Write } from "../core/plan.ts";
import {
  apply,
  createIfAbsent,
  deleteIfPresent,
  mergePatch,
} from "../kube/api.ts";
import { KubeApiError, type KubeHttp } from "../kube/http.ts";
import type { Span } from "../telemetry/spans.ts";
import { settleAll } from "./settle.ts";

/** The cluster was deleted while its pass ran (a write of it found nothing). */
export class ClusterGoneError extends Error {
  /** Builds the error for the pass of `key`. */
  constructor(key: string, options?: ErrorOptions) {
    super(`MySQLCluster ${key} was deleted during its pass`, options);
    this.name = "ClusterGoneError";
  }
}

/** One write done: what it reports and why it was made. */
export interface Done {
  /** What it reports, e.g. `apply StatefulSet db`. */
  summary: string;
  /** Why it was made. */
  why: string;
}

/** What one write did: whether it changed anything, and what an apply stored. */
interface Sent {
  changed: boolean;
  /** `Kind/name` and the resourceVersion an apply left. */
  stored?: [string, string];
}

/** Runs one write; a `create` that found the object there changed nothing. */
async function send(kube: KubeHttp, write: Write): Promise<Sent> {
  switch (write.op) {
    case "create":
      return { changed: await createIfAbsent(kube, write.object) };
    case "apply": {
      const { kind } = write.object;
      const { metadata } = await apply(kube, write.object, write.subresource);
      return {
        changed: true,
        ...(kind && metadata?.name && metadata.resourceVersion
          ? {
            stored: [childKey(kind, metadata.name), metadata.resourceVersion],
          }
          : {}),
      };
    }
    case "patch":
      await mergePatch(kube, write.target, write.patch);
      return { changed: true };
    case "delete":
      await deleteIfPresent(kube, write.target);
      return { changed: true };
  }
}

/** What executing a plan did. */
export interface Executed {
  /** The writes made (a `create` of an existing object is none). */
  done: Done[];
  /** The resourceVersions the applies left, by `Kind/name`. */
  stored: Map<string, string>;
  /** `Kind/name` of what was deleted. */
  deleted: Set<string>;
}

async function run(
  kube: KubeHttp,
  key: string,
  write: Write,
  span: Span | undefined,
  executed: Executed,
): Promise<void> {
  let sent: Sent;
  try {
    sent = await send(kube, write);
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) {
      if (write.onMissing === "skip") return;
      if (write.onMissing === "cluster-gone") {
        throw new ClusterGoneError(key, { cause: error });
      }
    }
    throw error;
  }
  if (sent.stored) executed.stored.set(...sent.stored);
  if (write.op === "delete") {
    executed.deleted.add(childKey(write.target.kind, write.target.name));
  }
  if (write.note) {
    // a create that found the object kept it as it was
    const attributes = sent.changed
      ? write.note.attributes
      : { ...write.note.attributes, "mysql.action": "kept" };
    span?.addEvent(write.note.name, attributes);
  }
  if (sent.changed) {
    executed.done.push({ summary: write.summary, why: write.why });
  }
}

/**
 * Executes `plan` over `kube`, recording on `span`; returns the writes
 * made and what they stored. Throws the first failure of a wave once all
 * of that wave's writes have settled.
 */
export async function execute(
  kube: KubeHttp,
  plan: Plan,
  span: Span | undefined,
): Promise<Executed> {
  for (const ref of plan.unchanged) {
    const note = ensured(ref, "unchanged");
    span?.addEvent(note.name, note.attributes);
  }
  const writes = plan.waves.flat();
  if (writes.length > 0) {
    // what the pass is about to do and why, in wave order
    span?.addEvent("plan", {
      "mysql.plan": writes.map((w) => `${w.summary}: ${w.why}`),
    });
  }
  const executed: Executed = {
    done: [],
    stored: new Map(),
    deleted: new Set(),
  };
  for (const wave of plan.waves) {
    await settleAll(
      wave.map((write) => () => run(kube, plan.key, write, span, executed)),
    );
  }
  if (!plan.statusChanged) {
    span?.addEvent("status unchanged", { "mysql.phase": plan.phase ?? "" });
  }
  return executed;
}
