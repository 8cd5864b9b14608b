/**
 * Reading what the core asks for: the reads of {@linkcode readsFor} at
 * once, then those of {@linkcode followUpReads}, into an
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
  into: Observed & { children: Map<string, KubeObject> },
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

/** Reads everything the core needs to plan a pass over `cluster`. */
export async function observe(
  kube: KubeHttp,
  cluster: MySQLCluster,
): Promise<Observed> {
  const observed: Observed & { children: Map<string, KubeObject> } = {
    cluster,
    children: new Map(),
  };
  await runReads(kube, readsFor(cluster), observed);
  await runReads(kube, followUpReads(cluster, observed.children), observed);
  return observed;
}
