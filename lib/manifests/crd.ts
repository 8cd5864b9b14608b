/**
 * The MySQLCluster CustomResourceDefinition, generated from the schema in
 * `lib/core/mysql_cluster_schema.ts`. `deno task manifests` writes it to
 * `knative/base/mysqlcluster_crd.yaml`; a test fails when that file drifts.
 *
 * @module
 */

import { stringify } from "yaml";
import {
  GROUP,
  KIND,
  MYSQL_CLUSTER_SCHEMA,
  PLURAL,
  SHORT_NAME,
  SINGULAR,
  VERSION,
} from "../core/mysql_cluster_schema.ts";

/** Where the generated CRD lives, relative to the repository root. */
export const CRD_PATH = "knative/base/mysqlcluster_crd.yaml";

/** The CRD object. */
export function mysqlClusterCrd(): Record<string, unknown> {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${PLURAL}.${GROUP}`,
      labels: {
        "app.kubernetes.io/name": "mysql-operator-fn",
        "app.kubernetes.io/component": "crd",
      },
    },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [SHORT_NAME],
        categories: ["all"],
      },
      versions: [{
        name: VERSION,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: MYSQL_CLUSTER_SCHEMA },
        // clusters never reconciled yet (no phase) are found with
        // fieldSelector=status.phase= (a burst's pending creations)
        selectableFields: [{ jsonPath: ".status.phase" }],
        subresources: {
          status: {},
          scale: {
            specReplicasPath: ".spec.replicas",
            statusReplicasPath: ".status.replicas",
            labelSelectorPath: ".status.selector",
          },
        },
        additionalPrinterColumns: [
          {
            name: "Ready",
            type: "string",
            jsonPath: '.status.conditions[?(@.type=="Ready")].status',
            description: "Whether every replica is ready.",
          },
          {
            name: "Phase",
            type: "string",
            jsonPath: ".status.phase",
            description: "Summary of the cluster's state.",
          },
          {
            name: "Replicas",
            type: "integer",
            jsonPath: ".spec.replicas",
            description: "Desired number of pods.",
          },
          {
            name: "Version",
            type: "string",
            jsonPath: ".spec.version",
            description: "MySQL version.",
          },
          {
            name: "Age",
            type: "date",
            jsonPath: ".metadata.creationTimestamp",
          },
        ],
      }],
    },
  };
}

/** The CRD as the YAML committed in `knative/`. */
export function renderCrdYaml(): string {
  return "# Generated from lib/core/mysql_cluster_schema.ts by `deno task manifests`. Do not edit.\n" +
    stringify(mysqlClusterCrd(), { lineWidth: 0 });
}
