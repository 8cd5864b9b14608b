/**
 * The Kubernetes calls the reconcile makes, one function each, over
 * {@linkcode KubeHttp}. Every write uses the operator's single field
 * manager; reads of the credentials Secret ask for its metadata only, so its
 * data never enters this process.
 *
 * @module
 */

import { KubeApiError, type KubeHttp, type KubeObject } from "./http.ts";
import { FIELD_MANAGER } from "../core/labels.ts";
import type {
  MySQLCluster,
  MySQLClusterStatus,
} from "../core/mysql_cluster.ts";
import { API_VERSION, KIND, PLURAL } from "../core/mysql_cluster_schema.ts";

const APPLY = "application/apply-patch+yaml";

/** REST path of a namespaced object (or its collection when `name` is omitted). */
export function resourcePath(
  apiVersion: string,
  plural: string,
  namespace: string,
  name?: string,
): string {
  const base = apiVersion.includes("/")
    ? `/apis/${apiVersion}`
    : `/api/${apiVersion}`;
  return `${base}/namespaces/${namespace}/${plural}${name ? `/${name}` : ""}`;
}

const PLURALS: Record<string, string> = {
  Secret: "secrets",
  Service: "services",
  ConfigMap: "configmaps",
  StatefulSet: "statefulsets",
  PodDisruptionBudget: "poddisruptionbudgets",
  PersistentVolumeClaim: "persistentvolumeclaims",
  Event: "events",
  [KIND]: PLURAL,
};

/** REST path of an object of one of the kinds the operator writes. */
export function objectPath(object: {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}): string {
  const plural = PLURALS[object.kind];
  if (!plural) {
    throw new Error(`the operator does not manage kind ${object.kind}`);
  }
  return resourcePath(object.apiVersion, plural, object.namespace, object.name);
}

function refOf(
  object: KubeObject,
): { apiVersion: string; kind: string; namespace: string; name: string } {
  const metadata = object.metadata as { name: string; namespace: string };
  return {
    apiVersion: String(object.apiVersion),
    kind: String(object.kind),
    namespace: metadata.namespace,
    name: metadata.name,
  };
}

/** Reads an object; `undefined` when it does not exist. */
export async function getOptional<T = KubeObject>(
  kube: KubeHttp,
  path: string,
): Promise<T | undefined> {
  try {
    return await kube.request<T>("GET", path, { expected: [404] });
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** Reads a MySQLCluster; `undefined` when it does not exist (deleted). */
export function getCluster(
  kube: KubeHttp,
  namespace: string,
  name: string,
): Promise<MySQLCluster | undefined> {
  return getOptional<MySQLCluster>(
    kube,
    resourcePath(API_VERSION, PLURAL, namespace, name),
  );
}

/** Lists MySQLClusters in one namespace, or in all when `namespace` is undefined. */
export async function listClusters(
  kube: KubeHttp,
  namespace?: string,
): Promise<MySQLCluster[]> {
  const path = namespace
    ? resourcePath(API_VERSION, PLURAL, namespace)
    : `/apis/${API_VERSION}/${PLURAL}`;
  const list = await kube.request<{ items: MySQLCluster[] }>("GET", path);
  return list.items;
}

/**
 * Lists the objects of a core (v1) resource matching a label selector,
 * from the apiserver's cache (`resourceVersion=0`): a consistent list
 * waits for the cache to catch up with etcd, ~60 ms after any recent
 * write here. What these lists decide (role labels, volume expansion,
 * replica availability) is idempotent and re-checked on the next event.
 */
export async function listByLabel(
  kube: KubeHttp,
  resource: "pods" | "persistentvolumeclaims",
  namespace: string,
  labelSelector: string,
): Promise<KubeObject[]> {
  const list = await kube.request<{ items: KubeObject[] }>(
    "GET",
    resourcePath("v1", resource, namespace),
    { query: { labelSelector, resourceVersion: "0" } },
  );
  return list.items;
}

/** Sets labels on a pod (merge patch of its labels only). */
export function labelPod(
  kube: KubeHttp,
  namespace: string,
  name: string,
  labels: Record<string, string>,
): Promise<KubeObject> {
  return kube.request(
    "PATCH",
    resourcePath("v1", "pods", namespace, name),
    {
      body: { metadata: { labels } },
      contentType: "application/merge-patch+json",
      query: { fieldManager: FIELD_MANAGER },
    },
  );
}

/** Creates an object; returns false (and changes nothing) when it already exists. */
export async function createIfAbsent(
  kube: KubeHttp,
  object: KubeObject,
): Promise<boolean> {
  const ref = refOf(object);
  const collection = objectPath(ref).replace(/\/[^/]+$/, "");
  try {
    await kube.request("POST", collection, {
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

/** Server-side applies an object with the operator's field manager; returns the stored object. */
export function apply(kube: KubeHttp, object: KubeObject): Promise<KubeObject> {
  return kube.request("PATCH", objectPath(refOf(object)), {
    body: object,
    contentType: APPLY,
    query: {
      fieldManager: FIELD_MANAGER,
      fieldValidation: "Strict",
      force: "true",
    },
  });
}

/** Deletes an object; absent is fine. */
export async function deleteIfPresent(
  kube: KubeHttp,
  ref: { apiVersion: string; kind: string; namespace: string; name: string },
): Promise<void> {
  try {
    await kube.request("DELETE", objectPath(ref), { expected: [404] });
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 404)) throw error;
  }
}

/** Raises a PVC's storage request (volume expansion). */
export function expandPersistentVolumeClaim(
  kube: KubeHttp,
  namespace: string,
  name: string,
  storage: string,
): Promise<KubeObject> {
  return kube.request(
    "PATCH",
    resourcePath("v1", "persistentvolumeclaims", namespace, name),
    {
      body: { spec: { resources: { requests: { storage } } } },
      contentType: "application/merge-patch+json",
      query: { fieldManager: FIELD_MANAGER },
    },
  );
}

/** Server-side applies the cluster's status (status subresource). */
export function applyStatus(
  kube: KubeHttp,
  cluster: MySQLCluster,
  status: MySQLClusterStatus,
): Promise<MySQLCluster> {
  const { name, namespace } = cluster.metadata;
  return kube.request<MySQLCluster>(
    "PATCH",
    `${resourcePath(API_VERSION, PLURAL, namespace ?? "default", name)}/status`,
    {
      body: {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name, namespace },
        status,
      },
      contentType: APPLY,
      query: { fieldManager: FIELD_MANAGER, force: "true" },
    },
  );
}

/**
 * Server-side applies annotations on the cluster itself (metadata cannot
 * be written through the status subresource), e.g. the trace id of the
 * reconcile that wrote its status.
 */
export function annotateCluster(
  kube: KubeHttp,
  cluster: MySQLCluster,
  annotations: Record<string, string>,
): Promise<MySQLCluster> {
  const { name, namespace } = cluster.metadata;
  return kube.request<MySQLCluster>(
    "PATCH",
    resourcePath(API_VERSION, PLURAL, namespace ?? "default", name),
    {
      body: {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name, namespace, annotations },
      },
      contentType: APPLY,
      query: { fieldManager: FIELD_MANAGER, force: "true" },
    },
  );
}

/** Records a core/v1 Event on the cluster (what `kubectl describe` shows). */
export function recordEvent(
  kube: KubeHttp,
  cluster: MySQLCluster,
  event: { type: "Normal" | "Warning"; reason: string; message: string },
  now: string,
): Promise<KubeObject> {
  const namespace = cluster.metadata.namespace ?? "default";
  return kube.request("POST", resourcePath("v1", "events", namespace), {
    body: {
      apiVersion: "v1",
      kind: "Event",
      metadata: {
        generateName: `${cluster.metadata.name}.`,
        namespace,
      },
      involvedObject: {
        apiVersion: cluster.apiVersion,
        kind: cluster.kind,
        name: cluster.metadata.name,
        namespace,
        uid: cluster.metadata.uid,
        resourceVersion: cluster.metadata.resourceVersion,
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      source: { component: FIELD_MANAGER },
      reportingComponent: FIELD_MANAGER,
    },
  });
}
