/**
 * What `knative/base/` declares, read for tests and benchmarks that run
 * the pieces themselves: the ApiServerSources of `sources.yaml` as adapters
 * sending to a sink of the caller's choice, and the environment of the
 * Knative Service's container (`service.yaml`).
 *
 * @module
 */

import type { KubeHttp } from "../../lib/kube/http.ts";
import { type ApiServerSourceAdapter, startAdapter } from "./adapter.ts";
import { discoveryResolver, parseManifests } from "./apply.ts";
import type { ControlPlane } from "./control_plane.ts";
import {
  type DerivedSource,
  deriveSource,
  serviceEnv,
} from "./knative_manifests.ts";
import { REPO_ROOT } from "./paths.ts";

const BASE = `${REPO_ROOT}/knative/base`;

async function readBase(file: string) {
  return parseManifests(await Deno.readTextFile(`${BASE}/${file}`), file);
}

/** The namespace `knative/base/kustomization.yaml` puts everything in. */
async function baseNamespace(): Promise<string> {
  const [kustomization] = await readBase("kustomization.yaml");
  const namespace = (kustomization as { namespace?: unknown } | undefined)
    ?.namespace;
  if (typeof namespace !== "string" || !namespace) {
    throw new Error("knative/base/kustomization.yaml sets no namespace");
  }
  return namespace;
}

/**
 * The ApiServerSources of `knative/base/sources.yaml`, in the namespace the
 * kustomization gives them, as Knative's controller would configure their
 * adapters ({@linkcode deriveSource}, resources found through `kube`'s
 * discovery: their CRDs must be installed).
 */
async function knativeSources(kube: KubeHttp): Promise<DerivedSource[]> {
  const namespace = await baseNamespace();
  const resolve = discoveryResolver(kube);
  const derived: DerivedSource[] = [];
  for (const object of await readBase("sources.yaml")) {
    if (object.kind !== "ApiServerSource") continue;
    // what kustomize does with `namespace:`
    const source = {
      ...object,
      metadata: { ...object.metadata, namespace },
    };
    derived.push(await deriveSource(source, resolve));
  }
  return derived;
}

/**
 * Starts an adapter for each ApiServerSource of `knative/base/sources.yaml`
 * named in `names` (e.g. `mysql-clusters`), one after another, each sending
 * to `sink` (not the source's own sink) with the admin's identity and no
 * sender token: for a function that does not check its senders, or a relay
 * in front of one. Throws naming a source that the file does not have.
 */
export async function startKnativeSources<const N extends string>(
  cp: ControlPlane,
  sink: string,
  names: readonly N[],
): Promise<Record<N, ApiServerSourceAdapter>> {
  const derived = await knativeSources(cp.kube);
  const started = {} as Record<N, ApiServerSourceAdapter>;
  try {
    for (const name of names) {
      const source = derived.find((s) => s.name === name);
      if (!source) {
        throw new Error(
          `knative/base/sources.yaml has no ApiServerSource ${name} (it has ${
            derived.map((s) => s.name).join(", ")
          })`,
        );
      }
      started[name] = await startAdapter(cp, {
        name: source.name,
        namespace: source.namespace,
        sourceConfig: source.config,
        sink,
      });
    }
  } catch (error) {
    for (const adapter of Object.values<ApiServerSourceAdapter>(started)) {
      await adapter.stop();
    }
    throw error;
  }
  return started;
}

/**
 * The environment `knative/base/service.yaml` gives the function's
 * container (the variables with a literal `value`).
 */
export async function knativeServiceEnv(): Promise<Record<string, string>> {
  const env = serviceEnv(await readBase("service.yaml"));
  if (!env) {
    throw new Error(
      "knative/base/service.yaml has no Knative Service container",
    );
  }
  return env;
}
