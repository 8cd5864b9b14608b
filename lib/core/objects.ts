/**
 * Kubernetes object types as the core sees them: `@kubernetes/client-node`'s
 * generated models in their JSON wire form (timestamps are RFC 3339 strings
 * on the wire, `Date`s in the models). Imported as types only, so nothing
 * of client-node is loaded at run time.
 *
 * @module
 */

import type * as k8s from "@kubernetes/client-node";

/** client-node's `V1ObjectMeta` model. */
export type V1ObjectMeta = k8s.V1ObjectMeta;
/** client-node's `V1StatefulSet` model. */
export type V1StatefulSet = k8s.V1StatefulSet;
/** client-node's `V1Service` model. */
export type V1Service = k8s.V1Service;
/** client-node's `V1ConfigMap` model. */
export type V1ConfigMap = k8s.V1ConfigMap;
/** client-node's `V1Secret` model. */
export type V1Secret = k8s.V1Secret;
/** client-node's `V1Pod` model. */
export type V1Pod = k8s.V1Pod;
/** client-node's `V1PersistentVolumeClaim` model. */
export type V1PersistentVolumeClaim = k8s.V1PersistentVolumeClaim;
/** client-node's `V1PodDisruptionBudget` model. */
export type V1PodDisruptionBudget = k8s.V1PodDisruptionBudget;
/** client-node's `CoreV1Event` model. */
export type CoreV1Event = k8s.CoreV1Event;

/** A client-node model as JSON: every `Date` is a string. */
export type Wire<T> = T extends Date ? string
  : T extends (infer U)[] ? Wire<U>[]
  : T extends object ? { [K in keyof T]: Wire<T[K]> }
  : T;

/** `metav1.ObjectMeta`. */
export type ObjectMeta = Wire<V1ObjectMeta>;
/** A StatefulSet (`apps/v1`). */
export type StatefulSet = Wire<V1StatefulSet>;
/** A Service (`v1`). */
export type Service = Wire<V1Service>;
/** A ConfigMap (`v1`). */
export type ConfigMap = Wire<V1ConfigMap>;
/** A Secret (`v1`). */
export type Secret = Wire<V1Secret>;
/** A Pod (`v1`). */
export type Pod = Wire<V1Pod>;
/** A PersistentVolumeClaim (`v1`). */
export type PersistentVolumeClaim = Wire<V1PersistentVolumeClaim>;
/** A PodDisruptionBudget (`policy/v1`). */
export type PodDisruptionBudget = Wire<V1PodDisruptionBudget>;
/** A core/v1 Event. */
export type Event = Wire<CoreV1Event>;

/** Any object as the apiserver returns it or as it is sent. */
export interface KubeObject {
  /** e.g. `apps/v1`. */
  apiVersion?: string;
  /** e.g. `StatefulSet`. */
  kind?: string;
  /** Name, namespace, labels, owners… */
  metadata?: ObjectMeta;
  /** Every other field (`spec`, `status`, `data`…). */
  [field: string]: unknown;
}

/** A reference to one namespaced object. */
export interface ObjectRef {
  /** e.g. `apps/v1`. */
  apiVersion: string;
  /** e.g. `StatefulSet`. */
  kind: string;
  /** Its namespace. */
  namespace: string;
  /** Its name. */
  name: string;
}

/** `Kind/name`: the key of an object among one cluster's children. */
export function childKey(kind: string, name: string): string {
  return `${kind}/${name}`;
}

/** The reference of an object that has its kind, namespace and name. */
export function refOf(object: KubeObject): ObjectRef {
  const { apiVersion, kind, metadata } = object;
  if (!apiVersion || !kind || !metadata?.name || !metadata.namespace) {
    throw new Error(
      `object ${kind ?? "?"} ${metadata?.namespace ?? "?"}/${
        metadata?.name ?? "?"
      } lacks apiVersion, kind, namespace or name`,
    );
  }
  return {
    apiVersion,
    kind,
    namespace: metadata.namespace,
    name: metadata.name,
  };
}

/** A cluster's namespace and name. */
export interface ClusterName {
  /** Its namespace. */
  namespace: string;
  /** Its name. */
  name: string;
}

/** A page of clusters' names, as a paginated list answers. */
export interface ClusterPage {
  /** The clusters of this page, in key order (namespace/name). */
  items: ClusterName[];
  /** The token of the next page; none on the last. */
  continueFrom?: string;
}

/**
 * Orders strings by UTF-16 code units, as Go's `sort.Strings` does. Not
 * `localeCompare`: its first call loads ICU's collator (~10 ms of a cold
 * start), and names and API groups need no locale.
 */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True for a non-null object that is not an array (a JSON object). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
