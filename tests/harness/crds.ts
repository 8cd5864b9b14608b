/**
 * Installing CustomResourceDefinitions and waiting until they are served.
 *
 * @module
 */

import { type KubeHttp, type KubeObject } from "../../lib/kube_http.ts";
import { applyObjects, parseManifests } from "./apply.ts";
import { KNATIVE_CRD_FILES } from "./build.ts";
import { delay } from "./wait.ts";

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
 * Applies the CRDs and waits until each is `Established` (its names
 * accepted and its API served). Throws naming the CRD that did not get
 * there, with its conditions.
 */
export async function installCrds(
  kube: KubeHttp,
  crds: KubeObject[],
  timeoutMs = 30_000,
): Promise<void> {
  await applyObjects(kube, crds);
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    const name = (crd.metadata as { name: string }).name;
    const path =
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;
    while (true) {
      const current = await kube.request("GET", path);
      const conditions = ((current.status ?? {}) as {
        conditions?: { type: string; status: string; message?: string }[];
      }).conditions ?? [];
      if (
        conditions.some((c) => c.type === "Established" && c.status === "True")
      ) break;
      if (Date.now() > deadline) {
        throw new Error(
          `CRD ${name} not Established within ${timeoutMs} ms: ${
            JSON.stringify(conditions)
          }`,
        );
      }
      await delay(50);
    }
  }
}
