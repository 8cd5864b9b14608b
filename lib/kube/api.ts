/**
 * The Kubernetes calls the function makes, one function each, over
 * {@linkcode KubeHttp}. Beside each call, {@linkcode needs} declares the
 * verb and resources it takes and why: that table is the function's RBAC
 * (`knative/base/rbac.yaml` is generated from {@linkcode permissionTable}).
 * Every write uses the operator's single field manager.
 *
 * @module
 */

import { CHILDREN } from "../core/children.ts";
import { type ApiKind, apiKindOf, KINDS } from "../core/kinds.ts";
import { isDnsLabel, isDnsSubdomain } from "../core/dns_names.ts";
import { FIELD_MANAGER } from "../core/labels.ts";
import type { Credentials } from "../core/observation.ts";
import type { MySQLCluster } from "../core/mysql_cluster.ts";
import {
  type ClusterName,
  type ClusterPage,
  type KubeObject,
  type ObjectRef,
  refOf,
} from "../core/objects.ts";
import { InvalidNameError } from "./errors.ts";
import { KubeApiError, type KubeHttp } from "./http.ts";
import {
  declaredPermissions,
  needs,
  needsUrl,
  type Permission,
} from "./permissions.ts";

const APPLY = "application/apply-patch+yaml";
/** Ask for an object's metadata only (meta.k8s.io/v1 PartialObjectMetadata). */
const PARTIAL_METADATA =
  "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
const PARTIAL_METADATA_LIST =
  "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

function unique(kinds: ApiKind[]): ApiKind[] {
  return [...new Set(kinds)];
}

/** The kinds of a cluster's children (read, applied). */
const CHILD_KINDS = unique(CHILDREN.map((child) => child.kind));
/** The kinds of children a cluster may stop needing (deleted then). */
const OPTIONAL_KINDS = unique(
  CHILDREN.filter((child) => child.optional).map((child) => child.kind),
);

/**
 * REST path of a namespaced object, of its collection without `name`, of
 * every namespace's without `namespace`. Throws {@linkcode InvalidNameError}
 * unless the namespace is a DNS label and the name a DNS subdomain, so no
 * name can walk out of its path; every segment is encoded besides.
 */
export function resourcePath(
  kind: ApiKind,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  if (namespace !== undefined && !isDnsLabel(namespace)) {
    throw new InvalidNameError("namespace", namespace);
  }
  if (name !== undefined && !isDnsSubdomain(name)) {
    throw new InvalidNameError(`${kind.kind} name`, name);
  }
  const base = kind.group
    ? `/apis/${kind.apiVersion}`
    : `/api/${kind.apiVersion}`;
  const scope = namespace === undefined
    ? ""
    : `/namespaces/${encodeURIComponent(namespace)}`;
  const object = name === undefined ? "" : `/${encodeURIComponent(name)}`;
  const sub = subresource === undefined ? "" : `/${subresource}`;
  return `${base}${scope}/${kind.resource}${object}${sub}`;
}

/** REST path of an object of a kind the operator knows; throws for any other. */
export function objectPath(ref: ObjectRef, subresource?: string): string {
  const kind = apiKindOf(ref.apiVersion, ref.kind);
  if (!kind) {
    throw new Error(
      `the operator does not manage kind ${ref.kind} (${ref.apiVersion})`,
    );
  }
  return resourcePath(kind, ref.namespace, ref.name, subresource);
}

/** True for the kinds {@linkcode getObject} may read: a cluster's children. */
export function isChildKind(
  ref: { apiVersion: string; kind: string },
): boolean {
  const kind = apiKindOf(ref.apiVersion, ref.kind);
  return kind !== undefined && CHILD_KINDS.includes(kind);
}

/**
 * Reads `path`; `undefined` when absent. With `notOlderThan` (a
 * resourceVersion) the apiserver answers from its watch cache once that has
 * caught up with it — as fresh as that version, at half the cost of a
 * quorum read from etcd; `"0"`: from the watch cache as it is; without, a
 * quorum read.
 */
async function getOptional<T>(
  kube: KubeHttp,
  path: string,
  notOlderThan?: string,
): Promise<T | undefined> {
  try {
    return await kube.request<T>("GET", path, {
      expected: [404],
      ...(notOlderThan ? { query: { resourceVersion: notOlderThan } } : {}),
    });
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return undefined;
    // a version this apiserver cannot wait for (a lagging member of an HA
    // control plane answers 504 after ~3 s) or cannot read (an event's
    // version that is no version): the latest, a quorum read, is at least
    // as new — not a failed pass, redelivered over and over
    if (
      notOlderThan && notOlderThan !== "0" && error instanceof KubeApiError &&
      unusableVersion(error)
    ) return await getOptional<T>(kube, path);
    throw error;
  }
}

/** The apiserver refused a read's `resourceVersion` itself. */
function unusableVersion(error: KubeApiError): boolean {
  return (error.status === 504 && /too large resource version/i.test(
    error.detail,
  )) ||
    (error.status >= 400 &&
      /resourceVersion: Invalid value/.test(error.detail));
}

needs("get", [KINDS.MySQLCluster], "read the cluster each pass reconciles");
/**
 * Reads a MySQLCluster; `undefined` when it does not exist (deleted). At
 * least as new as `notOlderThan` (the version an event carried), else the
 * latest (a quorum read).
 */
export function getCluster(
  kube: KubeHttp,
  namespace: string,
  name: string,
  notOlderThan?: string,
): Promise<MySQLCluster | undefined> {
  return getOptional<MySQLCluster>(
    kube,
    resourcePath(KINDS.MySQLCluster, namespace, name),
    notOlderThan,
  );
}

needs(
  "list",
  [KINDS.MySQLCluster],
  "the resync visits every cluster; a burst's pending creations are taken up together",
);
/**
 * The names of one page of MySQLClusters (one namespace, or all when
 * `namespace` is undefined): `limit` at most, from a previous page's
 * `continueFrom`, only those never reconciled with `pendingOnly`. A token
 * older than etcd's history is answered 410. Without a token,
 * `notOlderThan` (a MySQLCluster's resourceVersion) lets the watch cache
 * answer as soon as it has that version; else the list is the latest (a
 * consistent list waits for the cache to catch up with etcd, ~40 ms after a
 * write of another kind).
 */
export async function listClusterPage(
  kube: KubeHttp,
  page: {
    limit: number;
    continueFrom?: string;
    pendingOnly?: boolean;
    notOlderThan?: string;
  },
  namespace?: string,
): Promise<ClusterPage> {
  // names are all a resync needs: metadata only (a tenth of the bytes)
  const list = await kube.request<
    {
      items: { metadata: ClusterName }[] | null;
      metadata?: { continue?: string };
    }
  >("GET", resourcePath(KINDS.MySQLCluster, namespace), {
    query: {
      limit: String(page.limit),
      ...(page.continueFrom
        ? { continue: page.continueFrom }
        : page.notOlderThan
        ? {
          resourceVersion: page.notOlderThan,
          resourceVersionMatch: "NotOlderThan",
        }
        : {}),
      ...(page.pendingOnly ? { fieldSelector: "status.phase=" } : {}),
    },
    accept: PARTIAL_METADATA_LIST,
    expected: [410],
  });
  // an empty metadata list comes as `items: null`
  const items = (list.items ?? []).map(({ metadata }) => ({
    namespace: metadata.namespace,
    name: metadata.name,
  }));
  const next = list.metadata?.continue;
  return next ? { items, continueFrom: next } : { items };
}

needs(
  "get",
  CHILD_KINDS,
  "observe each child by name; find the owner of a child a Reference-mode event names",
);
/**
 * Reads a child from the apiserver's watch cache (`resourceVersion=0`, as
 * informers do); `undefined` when it does not exist. The cache follows etcd
 * within milliseconds; a quorum read cost the apiserver twice the CPU and
 * etcd a read (measured: 0.57 + 0.20 ms against 0.30 + 0 ms), seven times a
 * pass. What a read decides is checked again on the next event: an apply is
 * idempotent, and a child changed since is an event of its own — read with
 * that event's version as `notOlderThan`, so that the change is seen even
 * from an apiserver whose cache lags the one the source watches.
 */
export function getObject(
  kube: KubeHttp,
  ref: ObjectRef,
  notOlderThan = "0",
): Promise<KubeObject | undefined> {
  return getOptional<KubeObject>(kube, objectPath(ref), notOlderThan);
}

needs(
  "list",
  [KINDS.Pod],
  "the role label on each pod of a cluster and its replicas' readiness",
);
needs(
  "list",
  [KINDS.PersistentVolumeClaim],
  "volume growth once storageSize outgrew the claim template",
);
/**
 * Lists the objects of a core (v1) kind matching a label selector, from
 * the apiserver's cache (`resourceVersion=0`): a consistent list waits for
 * the cache to catch up with etcd, ~60 ms after any recent write here.
 * What these lists decide (role labels, volume expansion, replica
 * availability) is idempotent and re-checked on the next event.
 */
export async function listByLabel<T extends KubeObject>(
  kube: KubeHttp,
  kind: ApiKind,
  namespace: string,
  labelSelector: string,
): Promise<T[]> {
  const list = await kube.request<{ items: T[] }>(
    "GET",
    resourcePath(kind, namespace),
    { query: { labelSelector, resourceVersion: "0" } },
  );
  return list.items;
}

needs(
  "create",
  [KINDS.Secret],
  "the credentials Secret, created once: never read, listed or changed",
);
needs("create", [KINDS.Event], "Events on the cluster");
/** Creates an object; false (and nothing changed) when it already exists. */
export async function createIfAbsent(
  kube: KubeHttp,
  object: KubeObject,
): Promise<boolean> {
  const kind = apiKindOf(object.apiVersion ?? "", object.kind ?? "");
  const namespace = object.metadata?.namespace;
  if (!kind || !namespace) {
    throw new Error(
      `cannot create ${object.kind} ${
        object.metadata?.name ?? ""
      }: unknown kind or no namespace`,
    );
  }
  try {
    await kube.request("POST", resourcePath(kind, namespace), {
      body: object,
      query: { fieldManager: FIELD_MANAGER, fieldValidation: "Strict" },
      expected: [409],
    });
    return true;
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 409) return false;
    throw error;
  }
}

needs("patch", CHILD_KINDS, "server-side apply of each child");
needs(
  "create",
  CHILD_KINDS,
  "server-side apply creates a child that is absent",
);
needs(
  "patch",
  [KINDS.MySQLCluster],
  "the status: server-side apply of the status subresource",
  "status",
);
/**
 * Server-side applies an object (or its status) with the operator's field
 * manager, taking over conflicting fields; returns the stored object's
 * metadata (asked for as PartialObjectMetadata: the apiserver does not
 * encode, nor the function parse, a whole StatefulSet and its managed
 * fields for the resourceVersion the pass keeps).
 *
 * `fieldValidation=Ignore`: an apply body is parsed as YAML, and under
 * `Strict` or `Warn` (the default) the apiserver parses it a second time
 * only to find duplicate keys — 7 % of kube-apiserver's CPU in a burst of
 * creations — which a body made by `JSON.stringify` cannot have. A field the
 * schema does not declare is refused all the same (server-side apply types
 * the body against the schema); the children pass `Strict` in the
 * integration tests.
 */
export function apply(
  kube: KubeHttp,
  object: KubeObject,
  subresource?: "status",
): Promise<Pick<KubeObject, "metadata">> {
  return kube.request("PATCH", objectPath(refOf(object), subresource), {
    body: object,
    contentType: APPLY,
    accept: PARTIAL_METADATA,
    query: {
      fieldManager: FIELD_MANAGER,
      fieldValidation: "Ignore",
      force: "true",
    },
  });
}

needs(
  "patch",
  [KINDS.Secret],
  "a dry run only, to see the credentials Secret's metadata (never its data); the admission policy allows it only on Secrets labelled as this operator's credentials",
);
/**
 * The credentials Secret's metadata, never its data: a dry-run merge patch
 * that changes nothing, answered as PartialObjectMetadata. The admission
 * policy refuses it (422) for a Secret not labelled as the operator's
 * credentials: that Secret is someone else's.
 */
export async function credentialsMetadata(
  kube: KubeHttp,
  ref: ObjectRef,
): Promise<Credentials> {
  try {
    const partial = await kube.request<{ metadata?: KubeObject["metadata"] }>(
      "PATCH",
      objectPath(ref),
      {
        body: {},
        contentType: "application/merge-patch+json",
        query: { dryRun: "All", fieldManager: FIELD_MANAGER },
        accept: PARTIAL_METADATA,
        expected: [404, 422],
      },
    );
    return { exists: true, metadata: partial.metadata ?? {} };
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) {
      return { exists: false };
    }
    if (error instanceof KubeApiError && error.status === 422) {
      return { exists: true, refused: error.detail };
    }
    throw error;
  }
}

needs("patch", [KINDS.Pod], "the role label the read Service selects pods by");
needs(
  "patch",
  [KINDS.PersistentVolumeClaim],
  "volume growth (claim templates are immutable)",
);
/** JSON merge patch of a few fields (a pod's label, a PVC's storage request). */
export function mergePatch(
  kube: KubeHttp,
  target: ObjectRef,
  patch: Record<string, unknown>,
): Promise<KubeObject> {
  return kube.request("PATCH", objectPath(target), {
    body: patch,
    contentType: "application/merge-patch+json",
    query: { fieldManager: FIELD_MANAGER },
  });
}

needs(
  "delete",
  OPTIONAL_KINDS,
  "a child the cluster no longer needs (the budget at one replica)",
);
/** Deletes an object; absent is fine. */
export async function deleteIfPresent(
  kube: KubeHttp,
  target: ObjectRef,
): Promise<void> {
  try {
    await kube.request("DELETE", objectPath(target), { expected: [404] });
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 404)) throw error;
  }
}

needsUrl(
  "/.well-known/openid-configuration",
  "OIDC discovery: the issuer of ServiceAccount tokens, to verify who sends events",
);
/** The cluster's ServiceAccount token issuer (OIDC discovery). */
export async function serviceAccountIssuer(kube: KubeHttp): Promise<string> {
  const discovery = await kube.request<{ issuer?: unknown }>(
    "GET",
    "/.well-known/openid-configuration",
  );
  if (typeof discovery.issuer !== "string" || !discovery.issuer) {
    throw new Error("OIDC discovery of the apiserver names no issuer");
  }
  return discovery.issuer;
}

needsUrl(
  "/openid/v1/jwks",
  "the keys that sign ServiceAccount tokens, to verify who sends events",
);
/** The keys that sign the cluster's ServiceAccount tokens (a JWK Set). */
export async function serviceAccountKeys(
  kube: KubeHttp,
): Promise<{ keys: Record<string, unknown>[] }> {
  const set = await kube.request<{ keys?: unknown }>(
    "GET",
    "/openid/v1/jwks",
    { accept: "application/jwk-set+json" },
  );
  if (!Array.isArray(set.keys)) {
    throw new Error("the apiserver's /openid/v1/jwks holds no keys");
  }
  return { keys: set.keys as Record<string, unknown>[] };
}

/** Every permission the calls above declare, merged and sorted. */
export function permissionTable(): Permission[] {
  return declaredPermissions();
}
