/**
 * What a namespace's MySQLClusters and their children look like, for fault
 * scenarios: which clusters have not converged, a normalized picture of
 * the whole (to compare two runs of one scenario) and every object's
 * resourceVersion (to see that nothing was written again); and a reset to
 * the state before any event was handled.
 *
 * @module
 */

import { type ApiKind, KINDS } from "../../lib/core/kinds.ts";
import { FIELD_MANAGER } from "../../lib/core/labels.ts";
import { DEFAULTS } from "../../lib/core/mysql_cluster_schema.ts";
import type { KubeObject } from "../../lib/core/objects.ts";
import { resourcePath } from "../../lib/kube/api.ts";
import type { KubeHttp } from "../../lib/kube/http.ts";

/** The kinds the operator makes for a cluster. */
const CHILDREN: readonly ApiKind[] = [
  KINDS.ConfigMap,
  KINDS.Secret,
  KINDS.Service,
  KINDS.StatefulSet,
  KINDS.PodDisruptionBudget,
];

// deno-lint-ignore no-explicit-any
type Loose = any;

async function list(
  kube: KubeHttp,
  kind: ApiKind,
  namespace: string,
): Promise<Loose[]> {
  const answer = await kube.request<{ items: Loose[] }>(
    "GET",
    resourcePath(kind, namespace),
  );
  return answer.items;
}

/**
 * Objects the operator made: controlled by a MySQLCluster, or labelled as
 * managed by it (the credentials Secret of `deletionPolicy: Retain` has no
 * owner).
 */
export function made(object: KubeObject): boolean {
  return object.metadata?.labels?.["app.kubernetes.io/managed-by"] ===
      FIELD_MANAGER ||
    (object.metadata?.ownerReferences ?? []).some((o) =>
      o.kind === "MySQLCluster" && o.controller
    );
}

/**
 * Deletes what the operator made for `namespace`'s clusters (see
 * {@linkcode made}) and clears the clusters' status: as if no event of
 * them had ever been handled.
 */
export async function reset(kube: KubeHttp, namespace: string): Promise<void> {
  for (const kind of CHILDREN) {
    for (const item of await list(kube, kind, namespace)) {
      if (!made(item)) continue;
      await kube.request(
        "DELETE",
        resourcePath(kind, namespace, item.metadata.name),
      );
    }
  }
  for (const cluster of await list(kube, KINDS.MySQLCluster, namespace)) {
    await kube.request(
      "PATCH",
      resourcePath(
        KINDS.MySQLCluster,
        namespace,
        cluster.metadata.name,
        "status",
      ),
      {
        body: { status: null },
        contentType: "application/merge-patch+json",
      },
    );
  }
}

/**
 * The clusters of `namespace` that have not converged: no phase, a status
 * for an older generation, or a StatefulSet whose replicas differ from the
 * spec's.
 */
export async function unconverged(
  kube: KubeHttp,
  namespace: string,
): Promise<string[]> {
  const [clusters, statefulSets] = await Promise.all([
    list(kube, KINDS.MySQLCluster, namespace),
    list(kube, KINDS.StatefulSet, namespace),
  ]);
  const replicas = new Map<string, number>(
    statefulSets.map((s) => [s.metadata.name, s.spec.replicas]),
  );
  return clusters.filter((c) =>
    !c.status?.phase ||
    c.status.observedGeneration !== c.metadata.generation ||
    replicas.get(c.metadata.name) !== (c.spec.replicas ?? DEFAULTS.replicas)
  ).map((c) => c.metadata.name as string);
}

/** A namespace's clusters and children at one moment. */
export interface NamespaceState {
  /**
   * Everything that should not differ between two runs of a scenario:
   * specs, data keys (not values: passwords are random), labels, owners by
   * name, the clusters' status without times and trace ids.
   */
  normalized: Record<string, unknown>;
  /** `Kind/name` → resourceVersion, clusters included. */
  versions: Record<string, string>;
}

function normalize(kind: string, object: Loose): unknown {
  const { metadata } = object;
  const base = {
    labels: metadata.labels ?? {},
    annotations: metadata.annotations ?? {},
    owners: (metadata.ownerReferences ?? []).map((
      o: Loose,
    ) => `${o.kind}/${o.name}${o.controller ? " (controller)" : ""}`),
  };
  switch (kind) {
    case "MySQLCluster": {
      const status = { ...(object.status ?? {}) };
      delete status.lastUpdate;
      delete status.traceId;
      status.conditions = (status.conditions ?? []).map((c: Loose) => {
        const { lastTransitionTime: _, ...rest } = c;
        return rest;
      });
      return { ...base, spec: object.spec, status };
    }
    case "Secret":
      return {
        ...base,
        type: object.type,
        keys: Object.keys(object.data ?? {}).sort(),
      };
    case "ConfigMap":
      return { ...base, data: object.data };
    case "Service": {
      const { clusterIP: _, clusterIPs: __, ...spec } = object.spec;
      return { ...base, spec };
    }
    default:
      return { ...base, spec: object.spec };
  }
}

/** The state of `namespace`'s clusters and the children they control. */
export async function namespaceState(
  kube: KubeHttp,
  namespace: string,
): Promise<NamespaceState> {
  const normalized: Record<string, unknown> = {};
  const versions: Record<string, string> = {};
  const lists = await Promise.all([
    list(kube, KINDS.MySQLCluster, namespace).then((items) =>
      [KINDS.MySQLCluster.kind, items] as const
    ),
    ...CHILDREN.map(async (kind) =>
      [kind.kind, (await list(kube, kind, namespace)).filter(made)] as const
    ),
  ]);
  for (const [kind, items] of lists) {
    for (const object of items) {
      const key = `${kind}/${object.metadata.name}`;
      normalized[key] = normalize(kind, object);
      versions[key] = object.metadata.resourceVersion;
    }
  }
  return { normalized, versions };
}

/**
 * One write of a Secret from the apiserver's audit log, whether it
 * succeeded or not (see `code`).
 */
export interface SecretWrite {
  verb: string;
  namespace: string;
  name: string;
  /** The answer's HTTP status (0 when the audit has none). */
  code: number;
  /** Who wrote: the client's user agent. */
  userAgent: string;
  /** The request, e.g. `/api/v1/namespaces/x/secrets?fieldManager=…`. */
  uri: string;
}

/** Every Secret write (dry runs aside) the apiserver audited in `namespace`, in order. */
export async function secretWrites(
  auditLogPath: string,
  namespace: string,
): Promise<SecretWrite[]> {
  const text = await Deno.readTextFile(auditLogPath);
  const writes: SecretWrite[] = [];
  for (const line of text.split("\n")) {
    if (!line.includes('"secrets"')) continue;
    const event = JSON.parse(line);
    const ref = event.objectRef ?? {};
    // a dry run writes nothing (the function's look at credentials' metadata)
    if (
      event.stage !== "ResponseComplete" || ref.resource !== "secrets" ||
      ref.namespace !== namespace ||
      /[?&]dryRun=/.test(event.requestURI ?? "")
    ) continue;
    writes.push({
      verb: event.verb,
      namespace: ref.namespace,
      // a create names its object in the body, not the path: the apiserver
      // fills objectRef.name from the request object
      name: ref.name ?? "",
      code: event.responseStatus?.code ?? 0,
      userAgent: event.userAgent ?? "",
      uri: event.requestURI ?? "",
    });
  }
  return writes;
}

/**
 * The request URIs of the GETs the apiserver audited (clusters and
 * StatefulSets, see the control plane's audit policy), in order: which
 * version each read asked for.
 */
export async function auditedReads(auditLogPath: string): Promise<string[]> {
  const uris: string[] = [];
  for (const line of (await Deno.readTextFile(auditLogPath)).split("\n")) {
    if (!line.includes('"verb":"get"')) continue;
    const event = JSON.parse(line);
    if (event.stage === "ResponseComplete") uris.push(event.requestURI ?? "");
  }
  return uris;
}
