/**
 * `knative/base/admission_policy.yaml`, generated: a
 * ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in
 * Kubernetes 1.30) that narrows what RBAC cannot — RBAC grants a verb on
 * every object of a resource; this policy lets the function's
 * ServiceAccount write only what a MySQLCluster owns:
 *
 * - StatefulSets, Services, ConfigMaps and PodDisruptionBudgets only when a
 *   MySQLCluster controls them (and, on update, controlled them before, by
 *   the same uid — or they were the operator's orphans);
 * - pods of the operator's StatefulSets, and on them only the role label;
 * - Secrets only as credentials carrying the operator's labels, created,
 *   or patched as a dry run that changes nothing (to read their metadata);
 * - data PVCs of its clusters, without touching their labels.
 *
 * `deno task manifests` writes it; a test fails when the committed file
 * drifts, and the end-to-end suite proves each denial with the function's
 * own token.
 *
 * @module
 */

import { stringify } from "yaml";
import { DATA_VOLUME } from "../core/child_names.ts";
import { CHILDREN } from "../core/children.ts";
import { KINDS } from "../core/kinds.ts";
import { FIELD_MANAGER } from "../core/labels.ts";
import { ROLE_LABEL } from "../core/mysql_topology.ts";
import { FUNCTION_ACCOUNT, OPERATOR_NAMESPACE } from "./rbac.ts";

/** Where the generated policy lives, relative to the repository root. */
export const ADMISSION_POLICY_PATH = "knative/base/admission_policy.yaml";
/** The policy's (and its binding's) name. */
export const POLICY_NAME = "mysql-operator-fn-writes";

const MANAGED_BY = "app.kubernetes.io/managed-by";
const COMPONENT = "app.kubernetes.io/component";
const INSTANCE = "app.kubernetes.io/instance";
const NAME = "app.kubernetes.io/name";

/** A CEL string literal. */
function lit(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** CEL: `labels` (an expression) has `key` = `value`. */
function label(object: string, key: string, value?: string): string {
  const present = `has(${object}.metadata.labels) && ${
    lit(key)
  } in ${object}.metadata.labels`;
  return value === undefined
    ? present
    : `${present} && ${object}.metadata.labels[${lit(key)}] == ${lit(value)}`;
}

/** CEL: the controller ownerReferences of `object`. */
function controllers(object: string): string {
  return `(has(${object}.metadata.ownerReferences) ? ${object}.metadata.ownerReferences.filter(r, has(r.controller) && r.controller) : [])`;
}

const clusterRef = `r.apiVersion == ${
  lit(KINDS.MySQLCluster.apiVersion)
} && r.kind == ${lit(KINDS.MySQLCluster.kind)}`;

/** The policy and its binding. */
export function admissionPolicy(): Record<string, unknown>[] {
  const username =
    `system:serviceaccount:${OPERATOR_NAMESPACE}:${FUNCTION_ACCOUNT}`;
  const childResources = [...new Set(CHILDREN.map((c) => c.kind.resource))];
  const groups = new Map<string, string[]>();
  for (
    const kind of [
      ...new Set(CHILDREN.map((c) => c.kind)),
      KINDS.Pod,
      KINDS.Secret,
      KINDS.PersistentVolumeClaim,
    ]
  ) {
    groups.set(kind.group, [...(groups.get(kind.group) ?? []), kind.resource]);
  }
  const resource = "request.resource.resource";
  const labelsExcept = (role: string) =>
    `(has(object.metadata.labels) ? object.metadata.labels : {}).all(k, k == ${role} || (has(oldObject.metadata.labels) && k in oldObject.metadata.labels && oldObject.metadata.labels[k] == object.metadata.labels[k])) && (has(oldObject.metadata.labels) ? oldObject.metadata.labels : {}).all(k, k == ${role} || (has(object.metadata.labels) && k in object.metadata.labels))`;
  const sameField = (path: string) =>
    `(has(object.${path}) ? object.${path} : {}) == (has(oldObject.${path}) ? oldObject.${path} : {})`;
  const credentials = (object: string) =>
    `${label(object, MANAGED_BY, FIELD_MANAGER)} && ${
      label(object, COMPONENT, "credentials")
    } && ${
      label(object, INSTANCE)
    } && ${object}.metadata.name == ${object}.metadata.labels[${
      lit(INSTANCE)
    }] + '-credentials'`;
  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: {
      name: POLICY_NAME,
      labels: {
        "app.kubernetes.io/name": FUNCTION_ACCOUNT,
        "app.kubernetes.io/part-of": "mysql-operator",
      },
    },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [...groups].map(([group, resources]) => ({
          apiGroups: [group],
          apiVersions: ["*"],
          operations: ["CREATE", "UPDATE", "DELETE"],
          resources,
        })),
      },
      matchConditions: [{
        name: "the-function-only",
        expression: `request.userInfo.username == ${lit(username)}`,
      }],
      variables: [
        {
          name: "subject",
          expression: "request.operation == 'DELETE' ? oldObject : object",
        },
        {
          name: "child",
          expression: `${resource} in [${childResources.map(lit).join(", ")}]`,
        },
        {
          name: "controllers",
          expression: controllers("variables.subject"),
        },
        {
          name: "oldControllers",
          expression: `request.operation == 'UPDATE' ? ${
            controllers("oldObject")
          } : []`,
        },
      ],
      validations: [
        {
          expression:
            `!variables.child || (size(variables.controllers) == 1 && variables.controllers.all(r, ${clusterRef}))`,
          message:
            "the function may write only StatefulSets, Services, ConfigMaps and PodDisruptionBudgets that a MySQLCluster controls",
          reason: "Forbidden",
        },
        {
          expression:
            `!variables.child || request.operation != 'UPDATE' || (size(variables.oldControllers) == 0 ? (has(oldObject.metadata.managedFields) && oldObject.metadata.managedFields.exists(f, has(f.manager) && f.manager == ${
              lit(FIELD_MANAGER)
            })) : variables.oldControllers.all(o, variables.controllers.exists(r, r.uid == o.uid)))`,
          message:
            "the function may change only objects its cluster already controls, or its own orphans",
          reason: "Forbidden",
        },
        {
          expression:
            `${resource} != 'pods' || (request.operation == 'UPDATE' && ${
              label("oldObject", MANAGED_BY, FIELD_MANAGER)
            } && ${label("oldObject", NAME, "mysql")} && ${
              controllers("oldObject")
            }.exists(r, r.apiVersion == 'apps/v1' && r.kind == 'StatefulSet') && ${
              labelsExcept(lit(ROLE_LABEL))
            } && (!(${label("object", ROLE_LABEL)}) || object.metadata.labels[${
              lit(ROLE_LABEL)
            }] in ['primary', 'replica']) && ${
              sameField("metadata.annotations")
            } && object.spec == oldObject.spec)`,
          message:
            `the function may only set the ${ROLE_LABEL} label (primary or replica) on pods of its clusters' StatefulSets`,
          reason: "Forbidden",
        },
        {
          expression:
            `${resource} != 'secrets' || request.operation != 'CREATE' || (${
              credentials("object")
            })`,
          message:
            `the function may create only credentials Secrets (<cluster>-credentials) labelled ${MANAGED_BY}=${FIELD_MANAGER}, ${COMPONENT}=credentials`,
          reason: "Forbidden",
        },
        {
          expression:
            `${resource} != 'secrets' || request.operation == 'CREATE' || (request.operation == 'UPDATE' && request.dryRun == true && ${
              credentials("oldObject")
            } && ${sameField("data")})`,
          message:
            "the function may only dry-run a patch of its own credentials Secrets (to read their metadata): this Secret is not one",
          // 422: what the function reads as "someone else's Secret"
          reason: "Invalid",
        },
        {
          expression:
            `${resource} != 'persistentvolumeclaims' || (request.operation == 'UPDATE' && ${
              label("oldObject", NAME, "mysql")
            } && ${
              label("oldObject", INSTANCE)
            } && oldObject.metadata.name.startsWith('${DATA_VOLUME}-' + oldObject.metadata.labels[${
              lit(INSTANCE)
            }] + '-') && ${sameField("metadata.labels")} && ${
              sameField("metadata.annotations")
            })`,
          message:
            "the function may only grow the data volume claims of its clusters",
          reason: "Forbidden",
        },
      ],
    },
  };
  const binding = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: {
      name: POLICY_NAME,
      labels: {
        "app.kubernetes.io/name": FUNCTION_ACCOUNT,
        "app.kubernetes.io/part-of": "mysql-operator",
      },
    },
    spec: { policyName: POLICY_NAME, validationActions: ["Deny"] },
  };
  return [policy, binding];
}

/** `knative/base/admission_policy.yaml` as committed. */
export function renderAdmissionPolicyYaml(): string {
  return "# Generated by `deno task manifests` from lib/manifests/admission_policy.ts. Do not edit.\n" +
    "# Narrows the function's RBAC to what its MySQLClusters own (Kubernetes >= 1.30).\n" +
    admissionPolicy().map((doc) => stringify(doc, { lineWidth: 0 })).join(
      "---\n",
    );
}
