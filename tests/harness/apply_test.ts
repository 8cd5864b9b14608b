import assert from "node:assert/strict";
import { parseManifests } from "./apply.ts";

Deno.test("parseManifests reads every object of a multi-document YAML and skips empty ones", () => {
  const objects = parseManifests(
    "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n",
  );
  assert.deepEqual(objects.map((o) => (o.metadata as { name: string }).name), [
    "a",
    "b",
  ]);
});

Deno.test("parseManifests names the document that is not an object", () => {
  assert.throws(
    () => parseManifests("apiVersion: v1\n---\n- a list\n", "x.yaml"),
    /x\.yaml, document 2: not a Kubernetes object/,
  );
});

Deno.test("parseManifests names the document that does not parse", () => {
  assert.throws(
    () => parseManifests("a: [unclosed\n", "bad.yaml"),
    /bad\.yaml, document 1/,
  );
});
