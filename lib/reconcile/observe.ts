/**
 * Reading what the core asks for: the children by name
 * ({@linkcode childReads}) while the cluster itself is read, the rest of
 * {@linkcode readsFor} once it is, then those of {@linkcode followUpReads},
 * into an {@linkcode Observed} for the planner.
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
  childReads,
  followUpReads,
  type Observed,
  type Read,
  readsFor,
} from "../core/observation.ts";
import { credentialsMetadata, getObject, listByLabel } from "../kube/api.ts";
import type { KubeHttp } from "../kube/http.ts";
import { settleAll } from "./settle.ts";

async function runReads(
  kube: KubeHttp,
  reads: Read[],
  into: Omit<Observed, "cluster" | "children"> & {
    children: Map<string, KubeObject>;
  },
): Promise<void> {
  await settleAll(reads.map((read) => async () => {
    if (read.op === "get") {
      // a quorum read: a watch cache asked for "not older than" the
      // cluster's version waits for etcd's progress on kinds that rarely
      // change (~60 ms), more than a read costs
      const object = await getObject(kube, read.ref);
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

/** Reads of a cluster's children sent before the cluster itself is read. */
export interface ReadsAhead {
  /** What they found, keyed by `Kind/name`. */
  children: Map<string, KubeObject>;
  /** Settles when every one has (rejects with the first failure). */
  done: Promise<unknown>;
}

/** Starts reading the children of the cluster `namespace/name` by name. */
export function readAhead(
  kube: KubeHttp,
  namespace: string,
  name: string,
): ReadsAhead {
  const children = new Map<string, KubeObject>();
  const done = runReads(kube, childReads(namespace, name), { children });
  // observed by whoever awaits it; never an unhandled rejection meanwhile
  done.catch(() => {});
  return { children, done };
}

/**
 * Reads everything the core needs to plan a pass over `cluster`, with the
 * reads `ahead` already sent for it (a cluster being deleted: their
 * answers are dropped).
 */
export async function observe(
  kube: KubeHttp,
  cluster: MySQLCluster,
  ahead?: ReadsAhead,
): Promise<Observed> {
  const reads = readsFor(cluster);
  const observed: Observed & { children: Map<string, KubeObject> } = {
    cluster,
    children: reads.length > 0 && ahead ? ahead.children : new Map(),
  };
  await settleAll([
    () => ahead?.done ?? Promise.resolve(),
    () =>
      runReads(
        kube,
        ahead ? reads.filter((read) => read.op !== "get") : reads,
        observed,
      ),
  ]);
  await runReads(kube, followUpReads(cluster, observed.children), observed);
  return observed;
}
