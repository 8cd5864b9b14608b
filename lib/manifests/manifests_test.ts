import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { permissionTable } from "../kube/api.ts";
import { generatedFiles } from "./generate.ts";
import { functionRules, SOURCE_KINDS } from "./rbac.ts";

const ROOT = new URL("../../", import.meta.url);

Deno.test("generated manifests match the committed files (run `deno task manifests` after changing the schema or an API call)", async () => {
  for (const { path, text } of generatedFiles()) {
    assert.equal(await Deno.readTextFile(new URL(path, ROOT)), text, path);
  }
});

Deno.test("functionRules grants exactly the permission table", () => {
  const table = permissionTable();
  const granted = functionRules(table).flatMap((rule) =>
    [...(rule.resources ?? []), ...(rule.nonResourceURLs ?? [])].flatMap((
      resource,
    ) =>
      rule.verbs.map((verb) =>
        `${rule.apiGroups?.[0] ?? ""}|${resource}|${verb}`
      )
    )
  ).sort();
  assert.deepEqual(
    granted,
    table.map((p) => `${p.group}|${p.nonResourceURL ?? p.resource}|${p.verb}`)
      .sort(),
  );
  assert.deepEqual(
    granted.filter((g) => g.startsWith("|secrets|")),
    ["|secrets|create", "|secrets|patch"],
    "Secrets: created, and patched as dry runs only (the admission policy)",
  );
});

Deno.test("the sources' role covers exactly what knative/base/sources.yaml watches", async () => {
  const watched = new Set<string>();
  const text = await Deno.readTextFile(
    new URL("knative/base/sources.yaml", ROOT),
  );
  for (const doc of parseAllDocuments(text)) {
    const object = doc.toJS() as {
      kind?: string;
      spec?: { resources?: { apiVersion: string; kind: string }[] };
    } | null;
    if (object?.kind !== "ApiServerSource") continue;
    for (const r of object.spec?.resources ?? []) {
      watched.add(`${r.apiVersion} ${r.kind}`);
    }
  }
  assert.deepEqual(
    [...watched].sort(),
    SOURCE_KINDS.map((k) => `${k.apiVersion} ${k.kind}`).sort(),
  );
});
