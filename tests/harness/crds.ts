/**
 * Installing CustomResourceDefinitions and waiting until they are served.
 *
 * @module
 */

import type { KubeHttp } from "../../lib/kube/http.ts";
import type { KubeObject } from "../../lib/core/objects.ts";
import { applyObjects, parseManifests } from "./apply.ts";
import { KNATIVE_CRD_FILES } from "./build.ts";
import { eventually } from "./wait.ts";

/** Reads the Knative CRDs (Service, ApiServerSource, PingSource, Broker, Trigger) from the build cache. */
export async function readKnativeCrds(dir: string): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  for (const file of Object.values(KNATIVE_CRD_FILES).flat()) {
    const path = `${dir}/${file.split("/").pop()}`;
    objects.push(
      ...parseManifests(await Deno.readTextFile(path), path).filter((o) =>
        o.kind === "CustomResourceDefinition"
      ),
    );
  }
  return objects;
}

/**
 * Applies the CRDs and waits until each is `Established` (names accepted)
 * and its resources can be listed (the apiserver answers 429 "storage is
 * (re)initializing" for a moment after Established). Throws naming the CRD
 * that did not get there, with its conditions or the last answer.
 */
export async function installCrds(
  kube: KubeHttp,
  crds: KubeObject[],
  timeoutMs = 30_000,
): Promise<void> {
  await applyObjects(kube, crds);
  for (const crd of crds) {
    const name = (crd.metadata as { name: string }).name;
    const path =
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;
    const current = await eventually(`CRD ${name} Established`, async () => {
      const current = await kube.request("GET", path);
      const conditions = ((current.status ?? {}) as {
        conditions?: { type: string; status: string }[];
      }).conditions ?? [];
      if (
        !conditions.some((c) => c.type === "Established" && c.status === "True")
      ) {
        throw new Error(`conditions: ${JSON.stringify(conditions)}`);
      }
      return current;
    }, timeoutMs);
    const spec = current.spec as {
      group: string;
      names: { plural: string };
      versions: { name: string; served: boolean }[];
    };
    for (const version of spec.versions.filter((v) => v.served)) {
      await eventually(
        `CRD ${name} ${version.name} serving lists`,
        () =>
          kube.request(
            "GET",
            `/apis/${spec.group}/${version.name}/${spec.names.plural}`,
            {
              query: { limit: "1" },
            },
          ),
        timeoutMs,
      );
    }
  }
}
