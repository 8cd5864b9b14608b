/**
 * Server-side apply of manifests, as `kubectl apply --server-side
 * --validate=strict` does it: one field manager, strict field validation, so
 * a misspelt field is refused by the apiserver instead of silently dropped.
 *
 * @module
 */

import { parseAllDocuments } from "yaml";
import type { KubeHttp } from "../../lib/kube/http.ts";
import type { KubeObject } from "../../lib/core/objects.ts";
import type { ResolveResource } from "./knative_manifests.ts";

/** The field manager the test bed applies with. */
export const TEST_FIELD_MANAGER = "mysql-operator-tests";

/** Options of {@linkcode applyObjects}. */
export interface ApplyOptions {
  fieldManager?: string;
  /** `Strict` (default) refuses unknown and duplicate fields. */
  fieldValidation?: "Strict" | "Warn" | "Ignore";
}

/**
 * Parses a multi-document YAML text into objects, skipping empty documents.
 * Throws naming the document that does not parse or is not an object.
 */
export function parseManifests(
  text: string,
  source = "manifest",
): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const [index, doc] of parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0) {
      throw new Error(
        `${source}, document ${index + 1}: ${doc.errors[0]!.message}`,
      );
    }
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new Error(
        `${source}, document ${index + 1}: not a Kubernetes object`,
      );
    }
    objects.push(value as KubeObject);
  }
  return objects;
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const discoveryCache = new WeakMap<KubeHttp, Map<string, ApiResource[]>>();

/** The REST path of an object (discovery tells the plural and the scope). */
export async function objectPath(
  kube: KubeHttp,
  object: KubeObject,
): Promise<string> {
  const apiVersion = String(object.apiVersion ?? "");
  const kind = String(object.kind ?? "");
  const metadata = (object.metadata ?? {}) as {
    name?: string;
    namespace?: string;
  };
  if (!apiVersion || !kind || !metadata.name) {
    throw new Error(
      `object needs apiVersion, kind and metadata.name: ${
        JSON.stringify(object).slice(0, 200)
      }`,
    );
  }
  const base = apiVersion.includes("/")
    ? `/apis/${apiVersion}`
    : `/api/${apiVersion}`;
  let cache = discoveryCache.get(kube);
  if (!cache) discoveryCache.set(kube, cache = new Map());
  const find = () =>
    cache!.get(base)?.find((r) => r.kind === kind && !r.name.includes("/"));
  if (!find()) {
    const list = await kube.request<{ resources: ApiResource[] }>("GET", base);
    cache.set(base, list.resources);
  }
  const resource = find();
  if (!resource) {
    throw new Error(
      `the apiserver does not serve kind ${kind} in ${apiVersion}`,
    );
  }
  const ns = resource.namespaced
    ? `/namespaces/${metadata.namespace ?? "default"}`
    : "";
  return `${base}${ns}/${resource.name}/${metadata.name}`;
}

/** Finds a kind's resource (plural) through discovery, for {@linkcode deriveSource}. */
export function discoveryResolver(kube: KubeHttp): ResolveResource {
  return async (apiVersion, kind) => {
    const path = await objectPath(kube, {
      apiVersion,
      kind,
      metadata: { name: "x" },
    });
    const [group, version] = apiVersion.includes("/")
      ? apiVersion.split("/") as [string, string]
      : ["", apiVersion];
    return { group, version, resource: path.split("/").at(-2)! };
  };
}

/** Server-side applies each object in order; returns what the apiserver stored. */
export async function applyObjects(
  kube: KubeHttp,
  objects: KubeObject[],
  options: ApplyOptions = {},
): Promise<KubeObject[]> {
  const applied: KubeObject[] = [];
  for (const object of objects) {
    const path = await objectPath(kube, object);
    applied.push(
      await kube.request("PATCH", path, {
        body: object,
        contentType: "application/apply-patch+yaml",
        query: {
          fieldManager: options.fieldManager ?? TEST_FIELD_MANAGER,
          fieldValidation: options.fieldValidation ?? "Strict",
          force: "true",
        },
      }),
    );
  }
  return applied;
}
