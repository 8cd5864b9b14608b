/**
 * The folders of `lib/` import each other only downwards, as README's "How
 * it works" draws them; nothing in `lib/` imports `functions/` or `tests/`.
 */
import assert from "node:assert/strict";

const LIB = new URL("./", import.meta.url);

/** Which folders each folder's code may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  telemetry: [],
  kube: ["core", "telemetry"],
  events: ["core", "telemetry"],
  reconcile: ["core", "kube", "telemetry"],
  manifests: ["core", "kube"],
  auth: ["core", "kube", "telemetry"],
};

const RELATIVE = /\bfrom\s+["'](\.{1,2}\/[^"']+)["']/g;

Deno.test("lib folders import only the folders below them", async () => {
  const wrong: string[] = [];
  for (const [folder, allowed] of Object.entries(ALLOWED)) {
    for await (const entry of Deno.readDir(new URL(`${folder}/`, LIB))) {
      if (
        !entry.name.endsWith(".ts") || /_(test|bench)\.ts$/.test(entry.name)
      ) {
        continue;
      }
      const file = new URL(`${folder}/${entry.name}`, LIB);
      const source = await Deno.readTextFile(file);
      for (const [, specifier] of source.matchAll(RELATIVE)) {
        const target = new URL(specifier!, file).pathname;
        const libPath = LIB.pathname;
        if (!target.startsWith(libPath)) {
          if (!target.endsWith("/deno.json")) {
            wrong.push(`${folder}/${entry.name} → ${specifier}`);
          }
          continue;
        }
        const to = target.slice(libPath.length).split("/")[0]!;
        if (to !== folder && !allowed.includes(to)) {
          wrong.push(`${folder}/${entry.name} → ${to}/`);
        }
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("every lib folder has its place in the layering", async () => {
  const folders: string[] = [];
  for await (const entry of Deno.readDir(LIB)) {
    if (entry.isDirectory) folders.push(entry.name);
  }
  assert.deepEqual(folders.sort(), Object.keys(ALLOWED).sort());
});
