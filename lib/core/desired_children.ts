/**
 * The children a MySQLCluster should have, as pure functions of the cluster
 * and of what was observed. No I/O: the edges read the observed objects and
 * write what these functions return.
 *
 * For a cluster `X`: Secret `X-credentials` (root, replication and probe
 * passwords, created once, never overwritten), ConfigMap `X-config` (the
 * MySQL configuration and scripts), headless Service `X` (per-pod DNS),
 * read-write Service `X-mysql` (the primary, pod 0), read-only Service
 * `X-mysql-read` (the replicas), StatefulSet `X` (one data volume per pod,
 * a replication sidecar), and a PodDisruptionBudget `X` above one pod.
 *
 * @module
 */

import { childNames, DATA_VOLUME } from "./child_names.ts";
import { childLabels, childMetadata, selectorLabels } from "./labels.ts";
import type { MySQLCluster } from "./mysql_cluster.ts";
import { GROUP } from "./mysql_cluster_schema.ts";
import {
  CLIENT_DIR,
  clusterConfigFiles,
  CONF_DIR,
  configHash,
  CREDENTIALS_DIR,
  DATA_DIR,
  MYSQL_PORT,
  SCRIPTS_DIR,
  SOCKET_DIR,
} from "./mysql_scripts.ts";
import {
  POD_NAME_LABEL,
  primaryPod,
  PROBE_USER,
  REPLICATION_USER,
  ROLE_LABEL,
  SECRET_KEYS,
  SECRET_USER_KEYS,
} from "./mysql_topology.ts";
import {
  compareStrings,
  type ConfigMap,
  type KubeObject,
  type PersistentVolumeClaim,
  type PodDisruptionBudget,
  type Secret,
  type Service,
  type StatefulSet,
} from "./objects.ts";
import {
  canonicalQuantity,
  parseQuantity,
  type Quantity,
  quantityString,
} from "./quantity.ts";
import type { EffectiveSpec } from "./validate.ts";

/**
 * A quantity as the apiserver stores it in a built-in object ("0.5" →
 * "500m", "1024Mi" → "1Gi"), so an applied object compares equal to what
 * was stored and an unchanged cluster writes nothing.
 */
function stored(quantity: Quantity): string {
  return canonicalQuantity(quantity) ?? quantityString(quantity);
}

/** UID and GID of `mysql` in the official image. */
export const MYSQL_UID = 999;
/** Pod template annotation with the hash of the ConfigMap's files. */
export const CONFIG_HASH_ANNOTATION = `${GROUP}/config-hash`;

/** The passwords of a new credentials Secret. */
export type Passwords = Record<keyof typeof SECRET_KEYS, string>;

/**
 * The credentials Secret: root, replication and probe passwords. With
 * `deletionPolicy: Delete` it is owned by the cluster (deleted with it and
 * its volumes); with `Retain` it has no owner, so it outlives the cluster
 * exactly as the retained data volumes do and a new cluster of that name
 * reuses it (the passwords inside those volumes are these).
 */
export function desiredSecret(
  cluster: MySQLCluster,
  spec: EffectiveSpec,
  passwords: Passwords,
): Secret {
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
    stringData: {
      [SECRET_KEYS.root]: passwords.root,
      [SECRET_USER_KEYS.replication]: REPLICATION_USER,
      [SECRET_KEYS.replication]: passwords.replication,
      [SECRET_USER_KEYS.probe]: PROBE_USER,
      [SECRET_KEYS.probe]: passwords.probe,
    },
  };
}

/** The ConfigMap with the MySQL configuration and scripts. */
export function desiredConfigMap(
  cluster: MySQLCluster,
  files: Record<string, string> = clusterConfigFiles(cluster),
): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: childMetadata(cluster, childNames(cluster).configMap, "database"),
    data: files,
  };
}

const MYSQL_SERVICE_PORTS = [
  { name: "mysql", port: MYSQL_PORT, targetPort: "mysql", protocol: "TCP" },
];

/** The headless Service that gives each pod a stable DNS name. */
export function desiredHeadlessService(cluster: MySQLCluster): Service {
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

/** The read-write Service on port 3306: the primary (pod 0) only. */
export function desiredClientService(cluster: MySQLCluster): Service {
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
      selector: {
        ...selectorLabels(cluster),
        [POD_NAME_LABEL]: primaryPod(cluster),
      },
      ports: MYSQL_SERVICE_PORTS,
    },
  };
}

/**
 * The read-only Service on port 3306: the replicas, by the role label the
 * operator keeps on each pod (a selector cannot say "every pod but 0").
 */
export function desiredReadService(cluster: MySQLCluster): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMetadata(
      cluster,
      childNames(cluster).readService,
      "database",
    ),
    spec: {
      type: "ClusterIP",
      selector: { ...selectorLabels(cluster), [ROLE_LABEL]: "replica" },
      ports: MYSQL_SERVICE_PORTS,
    },
  };
}

/** The observed StatefulSet's data claim template spec, if any. */
export function observedClaimSpec(
  statefulSet?: StatefulSet,
): PersistentVolumeClaim["spec"] {
  return statefulSet?.spec?.volumeClaimTemplates?.find((t) =>
    t.metadata?.name === DATA_VOLUME
  )?.spec;
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
  observed?: StatefulSet,
  files: Record<string, string> = clusterConfigFiles(cluster),
): StatefulSet {
  const names = childNames(cluster);
  const resources = {
    cpu: stored(spec.resources.cpu),
    memory: stored(spec.resources.memory),
  };
  // Claim templates are immutable: an existing StatefulSet keeps its own.
  const existing = observedClaimSpec(observed);
  const storage = existing?.resources?.requests?.storage ??
    stored(spec.storageSize);
  const storageClassName = existing
    ? existing.storageClassName
    : spec.storageClassName;
  const claimSpec: Record<string, unknown> = {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage } },
  };
  if (storageClassName) claimSpec.storageClassName = storageClassName;
  const podLabels = childLabels(cluster, "database");
  const image = `mysql:${spec.version}`;
  const restricted = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
  };
  const mount = (name: string, mountPath: string, readOnly = false) =>
    readOnly ? { name, mountPath, readOnly } : { name, mountPath };
  const data = { name: DATA_VOLUME, mountPath: DATA_DIR, subPath: "mysql" };
  const script = (file: string) => ["bash", `${SCRIPTS_DIR}/${file}`];
  const sidecarResources = { cpu: "50m", memory: "64Mi" };
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: childMetadata(cluster, names.statefulSet, "database"),
    spec: {
      serviceName: names.headlessService,
      replicas: spec.replicas,
      selector: { matchLabels: selectorLabels(cluster) },
      // pods start in order (the primary first) and are updated one at a
      // time from the highest ordinal down: replicas first, the primary last
      podManagementPolicy: "OrderedReady",
      updateStrategy: {
        type: "RollingUpdate",
        rollingUpdate: { partition: 0 },
      },
      persistentVolumeClaimRetentionPolicy: {
        whenDeleted: spec.deletionPolicy,
        whenScaled: spec.deletionPolicy,
      },
      template: {
        metadata: {
          labels: podLabels,
          annotations: {
            [CONFIG_HASH_ANNOTATION]: configHash(files),
          },
        },
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
          initContainers: [{
            name: "init-config",
            image,
            command: script("init-config.sh"),
            resources: {
              requests: sidecarResources,
              limits: sidecarResources,
            },
            securityContext: restricted,
            volumeMounts: [
              mount("config", SCRIPTS_DIR, true),
              mount("conf", CONF_DIR),
              mount("client", CLIENT_DIR),
              mount("credentials", CREDENTIALS_DIR, true),
              { ...data, readOnly: true },
            ],
          }],
          containers: [{
            name: "mysql",
            image,
            ports: [{
              name: "mysql",
              containerPort: MYSQL_PORT,
              protocol: "TCP",
            }],
            env: [{
              name: "MYSQL_ROOT_PASSWORD_FILE",
              value: `${CREDENTIALS_DIR}/${SECRET_KEYS.root}`,
            }, {
              // root only from inside the pod (the image's default is '%'):
              // the Services never expose it; create application accounts
              name: "MYSQL_ROOT_HOST",
              value: "127.0.0.1",
            }],
            resources: { requests: resources, limits: resources },
            // crash recovery and upgrades can take many minutes: 30 min here
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
              exec: { command: script("ready.sh") },
              periodSeconds: 5,
              timeoutSeconds: 5,
              failureThreshold: 3,
            },
            securityContext: restricted,
            volumeMounts: [
              data,
              mount("run", SOCKET_DIR),
              mount("tmp", "/tmp"),
              mount("mysql-files", "/var/lib/mysql-files"),
              mount("conf", CONF_DIR, true),
              mount("client", CLIENT_DIR, true),
              mount("config", SCRIPTS_DIR, true),
              mount("initdb", "/docker-entrypoint-initdb.d", true),
              mount("credentials", CREDENTIALS_DIR, true),
            ],
          }, {
            name: "replication",
            image,
            command: script("replicate.sh"),
            resources: {
              requests: sidecarResources,
              limits: sidecarResources,
            },
            securityContext: restricted,
            volumeMounts: [
              mount("sidecar-tmp", "/tmp"),
              mount("client", CLIENT_DIR, true),
              mount("config", SCRIPTS_DIR, true),
              mount("credentials", CREDENTIALS_DIR, true),
            ],
          }],
          volumes: [
            { name: "run", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
            { name: "sidecar-tmp", emptyDir: {} },
            { name: "mysql-files", emptyDir: {} },
            { name: "conf", emptyDir: {} },
            {
              name: "client",
              emptyDir: { medium: "Memory", sizeLimit: "1Mi" },
            },
            {
              name: "config",
              configMap: { name: names.configMap, defaultMode: 0o444 },
            },
            {
              name: "initdb",
              configMap: {
                name: names.configMap,
                items: [{ key: "initdb-users.sh", path: "10-users.sh" }],
                defaultMode: 0o444,
              },
            },
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
): PodDisruptionBudget | undefined {
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
  statefulSet?: StatefulSet,
): boolean {
  const template = observedClaimSpec(statefulSet)?.resources?.requests?.storage;
  if (template === undefined) return false;
  const wanted = parseQuantity(spec.storageSize);
  const built = parseQuantity(template);
  return wanted !== undefined && built !== undefined && wanted > built;
}

/** A data PVC whose storage request must grow to `storage`. */
export interface VolumeExpansion {
  /** The claim, as observed. */
  claim: PersistentVolumeClaim;
  /** The new storage request. */
  storage: string;
}

/** The observed data PVCs whose storage request is below `spec.storageSize`. */
export function volumeExpansions(
  cluster: MySQLCluster,
  spec: EffectiveSpec,
  pvcs: readonly PersistentVolumeClaim[] = [],
): VolumeExpansion[] {
  const wanted = parseQuantity(spec.storageSize);
  if (wanted === undefined) return [];
  const prefix = `${DATA_VOLUME}-${cluster.metadata.name}-`;
  const expansions: VolumeExpansion[] = [];
  for (const pvc of pvcs) {
    const name = pvc.metadata?.name ?? "";
    if (!name.startsWith(prefix) || !/^\d+$/.test(name.slice(prefix.length))) {
      continue;
    }
    const current = pvc.spec?.resources?.requests?.storage;
    const size = current === undefined ? undefined : parseQuantity(current);
    if (size !== undefined && size < wanted) {
      expansions.push({
        claim: pvc,
        storage: stored(spec.storageSize),
      });
    }
  }
  return expansions.sort((a, b) =>
    compareStrings(a.claim.metadata?.name ?? "", b.claim.metadata?.name ?? "")
  );
}

/** What a child's desired-state function is given. */
export interface ChildContext {
  /** The cluster as read. */
  cluster: MySQLCluster;
  /** Its spec with defaults applied. */
  spec: EffectiveSpec;
  /** This child as observed, if it exists. */
  observed: KubeObject | undefined;
  /** The cluster's configuration files, computed once per pass. */
  files: Record<string, string>;
}
