/**
 * The children a MySQLCluster should have, as pure functions of the cluster
 * and of what was observed. No I/O: the edges read the observed objects and
 * write what these functions return.
 *
 * For a cluster `X`: Secret `X-credentials` (created once, never
 * overwritten), headless Service `X` (per-pod DNS), client Service
 * `X-mysql`, StatefulSet `X` (one data volume per pod), and a
 * PodDisruptionBudget `X` when there is more than one pod.
 *
 * @module
 */

import type { KubeObject } from "./kube_http.ts";
import { childLabels, childMetadata, selectorLabels } from "./labels.ts";
import type { MySQLCluster } from "./mysql_cluster.ts";
import { parseQuantity, quantityString } from "./quantity.ts";
import type { EffectiveSpec } from "./validate.ts";

/** MySQL's port. */
export const MYSQL_PORT = 3306;
/** UID and GID of `mysql` in the official image. */
export const MYSQL_UID = 999;
/** Key of the root password in the credentials Secret. */
export const ROOT_PASSWORD_KEY = "root-password";
/** Where the credentials Secret is mounted in the MySQL container. */
export const CREDENTIALS_DIR = "/etc/mysql-credentials";
/** Name of the StatefulSet's data volume claim template (PVCs are `data-X-<i>`). */
export const DATA_VOLUME = "data";

/** What the edges observed of a cluster's children (absent = not found). */
export interface ObservedChildren {
  /** Only its existence and metadata are read, never its data. */
  secret?: KubeObject;
  statefulSet?: KubeObject;
  podDisruptionBudget?: KubeObject;
  /** The cluster's data PVCs (`data-X-<i>`). */
  persistentVolumeClaims?: KubeObject[];
}

/** A reference to an object to delete. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** A PVC whose storage request must grow. */
export interface VolumeExpansion {
  namespace: string;
  name: string;
  storage: string;
}

/** Every write a reconcile of the children should make. */
export interface DesiredChildren {
  /** Created only when absent; never updated (the credentials Secret). */
  create: KubeObject[];
  /** Server-side applied with the operator's field manager. */
  apply: KubeObject[];
  /** Deleted if present. */
  delete: ObjectRef[];
  /** PVCs to expand (claim templates are immutable). */
  expand: VolumeExpansion[];
}

/** Names of a cluster's children. */
export function childNames(cluster: MySQLCluster) {
  const name = cluster.metadata.name;
  return {
    secret: `${name}-credentials`,
    headlessService: name,
    clientService: `${name}-mysql`,
    statefulSet: name,
    podDisruptionBudget: name,
    pvc: (ordinal: number) => `${DATA_VOLUME}-${name}-${ordinal}`,
  };
}

/**
 * The credentials Secret holding `password` as the root password. With
 * `deletionPolicy: Delete` it is owned by the cluster (deleted with it);
 * with `Retain` it has no owner, so it outlives the cluster exactly as the
 * retained data volumes do and a new cluster of that name reuses it.
 */
export function desiredSecret(
  cluster: MySQLCluster,
  spec: EffectiveSpec,
  password: string,
): KubeObject {
  const metadata = childMetadata(
    cluster,
    childNames(cluster).secret,
    "credentials",
  );
  if (spec.deletionPolicy === "Retain") delete metadata.ownerReferences;
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata,
    type: "Opaque",
    stringData: { [ROOT_PASSWORD_KEY]: password },
  };
}

const MYSQL_SERVICE_PORTS = [
  { name: "mysql", port: MYSQL_PORT, targetPort: "mysql", protocol: "TCP" },
];

/** The headless Service that gives each pod a stable DNS name. */
export function desiredHeadlessService(cluster: MySQLCluster): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMetadata(
      cluster,
      childNames(cluster).headlessService,
      "database",
    ),
    spec: {
      clusterIP: "None",
      publishNotReadyAddresses: true,
      selector: selectorLabels(cluster),
      ports: MYSQL_SERVICE_PORTS,
    },
  };
}

/** The client Service on port 3306. */
export function desiredClientService(cluster: MySQLCluster): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMetadata(
      cluster,
      childNames(cluster).clientService,
      "database",
    ),
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(cluster),
      ports: MYSQL_SERVICE_PORTS,
    },
  };
}

/** The observed StatefulSet's data claim template spec, if any. */
function observedClaimSpec(statefulSet?: KubeObject):
  | {
    storageClassName?: string;
    resources?: { requests?: { storage?: string } };
  }
  | undefined {
  const templates = (statefulSet?.spec as {
    volumeClaimTemplates?: {
      metadata?: { name?: string };
      spec?: {
        storageClassName?: string;
        resources?: { requests?: { storage?: string } };
      };
    }[];
  } | undefined)?.volumeClaimTemplates;
  return templates?.find((t) => t.metadata?.name === DATA_VOLUME)?.spec;
}

/**
 * The StatefulSet: `mysql:<version>`, one PVC per replica, Guaranteed
 * resources, probes over TCP, and a security context the official image
 * accepts under the restricted Pod Security Standard.
 *
 * Claim templates are immutable, so once the StatefulSet exists its
 * template keeps the storage size and class it was created with; growth
 * goes through {@linkcode volumeExpansions}.
 */
export function desiredStatefulSet(
  cluster: MySQLCluster,
  spec: EffectiveSpec,
  observed?: KubeObject,
): KubeObject {
  const names = childNames(cluster);
  const resources = {
    cpu: quantityString(spec.resources.cpu),
    memory: quantityString(spec.resources.memory),
  };
  // Claim templates are immutable: an existing StatefulSet keeps its own.
  const existing = observedClaimSpec(observed);
  const storage = existing?.resources?.requests?.storage ??
    quantityString(spec.storageSize);
  const storageClassName = existing
    ? existing.storageClassName
    : spec.storageClassName;
  const claimSpec: Record<string, unknown> = {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage } },
  };
  if (storageClassName) claimSpec.storageClassName = storageClassName;
  const podLabels = childLabels(cluster, "database");
  const passwordFile = `${CREDENTIALS_DIR}/${ROOT_PASSWORD_KEY}`;
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: childMetadata(cluster, names.statefulSet, "database"),
    spec: {
      serviceName: names.headlessService,
      replicas: spec.replicas,
      selector: { matchLabels: selectorLabels(cluster) },
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "RollingUpdate" },
      persistentVolumeClaimRetentionPolicy: {
        whenDeleted: spec.deletionPolicy,
        // scaling down never deletes data
        whenScaled: "Retain",
      },
      template: {
        metadata: { labels: podLabels },
        spec: {
          terminationGracePeriodSeconds: 120,
          enableServiceLinks: false,
          automountServiceAccountToken: false,
          securityContext: {
            runAsUser: MYSQL_UID,
            runAsGroup: MYSQL_UID,
            fsGroup: MYSQL_UID,
            fsGroupChangePolicy: "OnRootMismatch",
            runAsNonRoot: true,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [{
            name: "mysql",
            image: `mysql:${spec.version}`,
            ports: [{
              name: "mysql",
              containerPort: MYSQL_PORT,
              protocol: "TCP",
            }],
            env: [{ name: "MYSQL_ROOT_PASSWORD_FILE", value: passwordFile }],
            resources: { requests: resources, limits: resources },
            startupProbe: {
              tcpSocket: { port: "mysql" },
              periodSeconds: 10,
              failureThreshold: 180,
            },
            livenessProbe: {
              exec: {
                command: [
                  "mysqladmin",
                  "ping",
                  "-h",
                  "127.0.0.1",
                  "--protocol=tcp",
                ],
              },
              periodSeconds: 10,
              timeoutSeconds: 5,
              failureThreshold: 6,
            },
            readinessProbe: {
              exec: {
                command: [
                  "sh",
                  "-c",
                  `MYSQL_PWD="$(cat ${passwordFile})" mysql -h 127.0.0.1 --protocol=tcp -uroot -e 'SELECT 1'`,
                ],
              },
              periodSeconds: 5,
              timeoutSeconds: 5,
              failureThreshold: 3,
            },
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ["ALL"] },
              readOnlyRootFilesystem: true,
              runAsNonRoot: true,
            },
            volumeMounts: [
              {
                name: DATA_VOLUME,
                mountPath: "/var/lib/mysql",
                subPath: "mysql",
              },
              { name: "run", mountPath: "/var/run/mysqld" },
              { name: "tmp", mountPath: "/tmp" },
              { name: "mysql-files", mountPath: "/var/lib/mysql-files" },
              {
                name: "credentials",
                mountPath: CREDENTIALS_DIR,
                readOnly: true,
              },
            ],
          }],
          volumes: [
            { name: "run", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
            { name: "mysql-files", emptyDir: {} },
            {
              name: "credentials",
              secret: { secretName: names.secret, defaultMode: 0o440 },
            },
          ],
        },
      },
      volumeClaimTemplates: [{
        // stable labels only: the template can never change
        metadata: { name: DATA_VOLUME, labels: selectorLabels(cluster) },
        spec: claimSpec,
      }],
    },
  };
}

/** A PodDisruptionBudget allowing one pod down at a time (none at ≤ 1 pod: it would block drains). */
export function desiredPodDisruptionBudget(
  cluster: MySQLCluster,
  spec: EffectiveSpec,
): KubeObject | undefined {
  if (spec.replicas <= 1) return undefined;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: childMetadata(
      cluster,
      childNames(cluster).podDisruptionBudget,
      "database",
    ),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(cluster) },
    },
  };
}

/**
 * Whether the data PVCs may need expanding: only once `spec.storageSize`
 * has grown past the StatefulSet's (immutable) claim template. Before that
 * every PVC was made from the template, so listing them would be wasted.
 */
export function volumesMayNeedExpansion(
  spec: EffectiveSpec,
  statefulSet?: KubeObject,
): boolean {
  const template = observedClaimSpec(statefulSet)?.resources?.requests?.storage;
  if (template === undefined) return false;
  const wanted = parseQuantity(spec.storageSize);
  const built = parseQuantity(template);
  return wanted !== undefined && built !== undefined && wanted > built;
}

/** The observed data PVCs whose storage request is below `spec.storageSize`. */
export function volumeExpansions(
  cluster: MySQLCluster,
  spec: EffectiveSpec,
  pvcs: KubeObject[] = [],
): VolumeExpansion[] {
  const wanted = parseQuantity(spec.storageSize);
  if (wanted === undefined) return [];
  const prefix = `${DATA_VOLUME}-${cluster.metadata.name}-`;
  const expansions: VolumeExpansion[] = [];
  for (const pvc of pvcs) {
    const metadata = pvc.metadata as { name: string; namespace?: string };
    if (
      !metadata.name.startsWith(prefix) ||
      !/^\d+$/.test(metadata.name.slice(prefix.length))
    ) {
      continue;
    }
    const current =
      (pvc.spec as { resources?: { requests?: { storage?: string } } })
        ?.resources?.requests?.storage;
    const size = current === undefined ? undefined : parseQuantity(current);
    if (size !== undefined && size < wanted) {
      expansions.push({
        namespace: metadata.namespace ?? cluster.metadata.namespace ??
          "default",
        name: metadata.name,
        storage: quantityString(spec.storageSize),
      });
    }
  }
  return expansions.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Everything the children need, in write order. `newPassword` is used only
 * when no credentials Secret was observed.
 */
export function desiredChildren(
  cluster: MySQLCluster,
  spec: EffectiveSpec,
  observed: ObservedChildren,
  newPassword: string,
): DesiredChildren {
  const names = childNames(cluster);
  const pdb = desiredPodDisruptionBudget(cluster, spec);
  const result: DesiredChildren = {
    create: observed.secret ? [] : [desiredSecret(cluster, spec, newPassword)],
    apply: [
      desiredHeadlessService(cluster),
      desiredClientService(cluster),
      desiredStatefulSet(cluster, spec, observed.statefulSet),
    ],
    delete: [],
    expand: volumeExpansions(cluster, spec, observed.persistentVolumeClaims),
  };
  if (pdb) result.apply.push(pdb);
  else if (observed.podDisruptionBudget) {
    result.delete.push({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      namespace: cluster.metadata.namespace ?? "default",
      name: names.podDisruptionBudget,
    });
  }
  return result;
}
