/**
 * Reading what the core asks for: the reads of {@linkcode readsAhead}
 * while the cluster itself is read (what of them to keep:
 * {@linkcode keptAhead}), then those of {@linkcode followUpReads}, into an
 * {@linkcode Observed} for the planner.
 *
 * @module
 */

import type { MySQLCluster } from "../core/mysql_cluster.ts";
import {
  childKey,
  type KubeObject,
  type PersistentVolumeClaim,
  type Pod,
} from "../core/objects.ts";
import {
  followUpReads,
  keptAhead,
  type Observed,
  type Read,
  readsAhead,
  type SeenObject,
} from "../core/observation.ts";
import { credentialsMetadata, getObject, listByLabel } from "../kube/api.ts";
import type { KubeHttp } from "../kube/http.ts";
import { settleAll } from "./settle.ts";

/** What reads found about a cluster, the cluster itself aside. */
export type Found = Omit<Observed, "cluster" | "children"> & {
  children: Map<string, KubeObject>;
};

async function runReads(
  kube: KubeHttp,
  reads: Read[],
  into: Found,
): Promise<void> {
  await settleAll(reads.map((read) => async () => {
    if (read.op === "get") {
      const object = await getObject(kube, read.ref, read.notOlderThan);
      if (object) {
        into.children.set(childKey(read.ref.kind, read.ref.name), object);
      }
    } else if (read.op === "credentials") {
      into.credentials = await credentialsMetadata(kube, read.ref);
    } else if (read.kind.kind === "Pod") {
      into.pods = await listByLabel<Pod>(
        kube,
        read.kind,
        read.namespace,
        read.selector,
      );
    } else {
      into.volumeClaims = await listByLabel<PersistentVolumeClaim>(
        kube,
        read.kind,
        read.namespace,
        read.selector,
      );
    }
  }));
}

/** The reads of a cluster sent before the cluster itself is read. */
export interface ReadsAhead {
  /** What they found. */
  found: Found;
  /** Settles when every one has (rejects with the first failure). */
  done: Promise<unknown>;
}

/**
 * Starts the reads of {@linkcode readsAhead} for the cluster
 * `namespace/name` (`fresh`: an event said it was never reconciled;
 * `seen`: the object it carried).
 */
export function readAhead(
  kube: KubeHttp,
  namespace: string,
  name: string,
  fresh = false,
  seen?: SeenObject,
): ReadsAhead {
  const found = { children: new Map<string, KubeObject>() };
  const reads = readsAhead(namespace, name, fresh, seen);
  const done = Promise.all([
    runReads(kube, reads.filter((read) => read.op !== "credentials"), found),
    // sent on a hint only: a failure leaves it unread, and the pass reads
    // it again if it needs it (a pass that does not need it never fails
    // for it)
    runReads(kube, reads.filter((read) => read.op === "credentials"), found)
      .catch(() => {}),
  ]);
  // observed by whoever awaits it; never an unhandled rejection meanwhile
  done.catch(() => {});
  return { found, done };
}

/**
 * Reads everything the core needs to plan a pass over `cluster`, given the
 * reads `ahead` already sent for it (kept as {@linkcode keptAhead} says),
 * then the follow-up reads.
 */
export async function observe(
  kube: KubeHttp,
  cluster: MySQLCluster,
  ahead: ReadsAhead,
): Promise<Observed> {
  await ahead.done;
  const { children } = ahead.found;
  const kept = keptAhead(cluster, children, ahead.found);
  const observed: Found & Pick<Observed, "cluster"> = {
    cluster,
    children,
    ...kept,
  };
  await runReads(
    kube,
    followUpReads(cluster, children, kept.credentials !== undefined),
    observed,
  );
  return observed;
}
