/**
 * The children a MySQLCluster has, as one table: for each, its kind, its
 * name and the function computing its desired state. The observation reads
 * each of them, the planner applies, keeps or deletes each of them, and the
 * permission table grants what that takes. Adding a child is one function
 * in `desired_children.ts` and one line here.
 *
 * The credentials Secret is not in the table: it is created once, never
 * applied or deleted, and only its metadata is read (see `desiredSecret`).
 *
 * @module
 */

import { childNames, clusterNamespace } from "./child_names.ts";
import {
  type ChildContext,
  desiredClientService,
  desiredConfigMap,
  desiredHeadlessService,
  desiredPodDisruptionBudget,
  desiredReadService,
  desiredStatefulSet,
} from "./desired_children.ts";
import { type ApiKind, KINDS } from "./kinds.ts";
import type { MySQLCluster } from "./mysql_cluster.ts";
import { clusterConfigFiles } from "./mysql_scripts.ts";
import {
  childKey,
  type KubeObject,
  type ObjectRef,
  type StatefulSet,
} from "./objects.ts";
import type { EffectiveSpec } from "./validate.ts";

/** One child of a cluster. */
export interface Child {
  /** Its kind. */
  kind: ApiKind;
  /** Its name for a cluster. */
  name(cluster: MySQLCluster): string;
  /**
   * Its desired state, or `undefined` when the cluster should not have it
   * (an observed one is then deleted).
   */
  desired(context: ChildContext): KubeObject | undefined;
  /** True when it can be absent by design (then deleting it is allowed). */
  optional?: boolean;
}

/** The children applied and observed, in the order they are listed in plans. */
export const CHILDREN: readonly Child[] = [
  {
    kind: KINDS.ConfigMap,
    name: (c) => childNames(c).configMap,
    desired: ({ cluster, files }) => desiredConfigMap(cluster, files),
  },
  {
    kind: KINDS.Service,
    name: (c) => childNames(c).headlessService,
    desired: ({ cluster }) => desiredHeadlessService(cluster),
  },
  {
    kind: KINDS.Service,
    name: (c) => childNames(c).clientService,
    desired: ({ cluster }) => desiredClientService(cluster),
  },
  {
    kind: KINDS.Service,
    name: (c) => childNames(c).readService,
    desired: ({ cluster }) => desiredReadService(cluster),
  },
  {
    kind: KINDS.StatefulSet,
    name: (c) => childNames(c).statefulSet,
    desired: ({ cluster, spec, observed, files }) =>
      desiredStatefulSet(cluster, spec, observed as StatefulSet, files),
  },
  {
    kind: KINDS.PodDisruptionBudget,
    name: (c) => childNames(c).podDisruptionBudget,
    desired: ({ cluster, spec }) => desiredPodDisruptionBudget(cluster, spec),
    optional: true,
  },
];

/** The reference of the cluster's credentials Secret (made once, never applied). */
export function credentialsRef(cluster: MySQLCluster): ObjectRef {
  return {
    apiVersion: KINDS.Secret.apiVersion,
    kind: KINDS.Secret.kind,
    namespace: clusterNamespace(cluster),
    name: childNames(cluster).secret,
  };
}

/** The reference of `child` for `cluster`. */
export function childRef(child: Child, cluster: MySQLCluster): ObjectRef {
  return {
    apiVersion: child.kind.apiVersion,
    kind: child.kind.kind,
    namespace: clusterNamespace(cluster),
    name: child.name(cluster),
  };
}

/** A child with its desired state (none: it should not exist). */
export interface DesiredChild {
  /** Which child. */
  child: Child;
  /** Its reference for this cluster. */
  ref: ObjectRef;
  /** Its desired state; `undefined` when it should not exist. */
  object: KubeObject | undefined;
  /** It as observed; `undefined` when it does not exist. */
  observed: KubeObject | undefined;
}

/**
 * Every child's desired state for a valid spec, beside what was observed
 * of it (`observed` is keyed by {@linkcode childKey}).
 */
export function desiredChildren(
  cluster: MySQLCluster,
  spec: EffectiveSpec,
  observed: ReadonlyMap<string, KubeObject>,
): DesiredChild[] {
  const files = clusterConfigFiles(cluster);
  return CHILDREN.map((child) => {
    const ref = childRef(child, cluster);
    const current = observed.get(childKey(ref.kind, ref.name));
    return {
      child,
      ref,
      object: child.desired({ cluster, spec, observed: current, files }),
      observed: current,
    };
  });
}
