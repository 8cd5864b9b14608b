/**
 * What a namespace's MySQLClusters and their children look like, for fault
 * scenarios: which clusters have not converged, a normalized picture of
 * the whole (to compare two runs of one scenario) and every object's
 * resourceVersion (to see that nothing was written again).
 *
 * @module
 */

import type { KubeObject } from "../../lib/core/objects.ts";
import { FIELD_MANAGER } from "../../lib/core/labels.ts";
import type { KubeHttp } from "../../lib/kube/http.ts";

const CLUSTERS = "/apis/database.example.com/v1/namespaces/NS/mysqlclusters";

/** The kinds the operator makes for a cluster, by list path. */
const CHILDREN: Record<string, string> = {
  ConfigMap: "/api/v1/namespaces/NS/configmaps",
  Secret: "/api/v1/namespaces/NS/secrets",
  Service: "/api/v1/namespaces/NS/services",
  StatefulSet: "/apis/apps/v1/namespaces/NS/statefulsets",
  PodDisruptionBudget: "/apis/policy/v1/namespaces/NS/poddisruptionbudgets",
};

// deno-lint-ignore no-explicit-any
type Loose = any;

async function list(
  kube: KubeHttp,
  path: string,
  namespace: string,
): Promise<Loose[]> {
  const answer = await kube.request<{ items: Loose[] }>(
    "GET",
    path.replace("NS", namespace),
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
 * The clusters of `namespace` that have not converged: no phase, a status
 * for an older generation, or a StatefulSet whose replicas differ from the
 * spec's.
 */
export async function unconverged(
  kube: KubeHttp,
  namespace: string,
): Promise<string[]> {
  const [clusters, statefulSets] = await Promise.all([
    list(kube, CLUSTERS, namespace),
    list(kube, CHILDREN.StatefulSet!, namespace),
  ]);
  const replicas = new Map<string, number>(
    statefulSets.map((s) => [s.metadata.name, s.spec.replicas]),
  );
  return clusters.filter((c) =>
    !c.status?.phase ||
    c.status.observedGeneration !== c.metadata.generation ||
    replicas.get(c.metadata.name) !== (c.spec.replicas ?? 3)
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
    list(kube, CLUSTERS, namespace).then((items) =>
      ["MySQLCluster", items] as const
    ),
    ...Object.entries(CHILDREN).map(async ([kind, path]) =>
      [kind, (await list(kube, path, namespace)).filter(made)] as const
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

/** One successful write of a Secret, from the apiserver's audit log. */
export interface SecretWrite {
  verb: string;
  namespace: string;
  name: string;
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
      // a create names its object in the body: the audit has it from the response
      name: ref.name ?? "",
      code: event.responseStatus?.code ?? 0,
      userAgent: event.userAgent ?? "",
      uri: event.requestURI ?? "",
    });
  }
  return writes;
}
