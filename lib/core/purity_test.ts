/**
 * The core stays pure: its files import only each other (and client-node's
 * model types, erased at run time) and touch no I/O, clock or randomness.
 */
import assert from "node:assert/strict";

const CORE = new URL("./", import.meta.url);

/** Side effects the core may not reach for (I/O, time, randomness). */
const FORBIDDEN: [RegExp, string][] = [
  [/\bDeno\./, "Deno.*"],
  [/\bfetch\s*\(/, "fetch"],
  [/\bDate\.now\s*\(/, "Date.now"],
  [/\bnew Date\s*\(/, "new Date"],
  [/\bMath\.random\s*\(/, "Math.random"],
  [/\bcrypto\./, "crypto"],
  [/\bperformance\.now\s*\(/, "performance.now"],
  [/\bset(Timeout|Interval)\s*\(/, "timers"],
];

const IMPORT =
  /^\s*(import|export)\s+(type\s+)?[^"';]*?\bfrom\s+["']([^"']+)["']|^\s*import\s*\(?\s*["']([^"']+)["']/gm;

/** What is wrong with one core file (empty: nothing). */
function coreViolations(name: string, source: string): string[] {
  const problems: string[] = [];
  const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
  for (const match of code.matchAll(IMPORT)) {
    const typeOnly = match[2] !== undefined;
    const specifier = match[3] ?? match[4] ?? "";
    const local = specifier.startsWith("./") && !specifier.includes("/..") &&
      !specifier.slice(2).includes("/");
    const modelTypes = typeOnly && specifier === "@kubernetes/client-node";
    if (!local && !modelTypes) {
      problems.push(`${name} imports ${specifier}`);
    }
  }
  for (const [pattern, what] of FORBIDDEN) {
    if (pattern.test(code)) problems.push(`${name} uses ${what}`);
  }
  return problems;
}

Deno.test("core files import nothing from the edges and do no I/O", async () => {
  const problems: string[] = [];
  let files = 0;
  for await (const entry of Deno.readDir(CORE)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    if (/_(test|bench)\.ts$/.test(entry.name)) continue;
    files++;
    const source = await Deno.readTextFile(new URL(entry.name, CORE));
    problems.push(...coreViolations(entry.name, source));
  }
  assert.ok(files >= 15, `read ${files} core files`);
  assert.deepEqual(problems, []);
});

Deno.test("coreViolations catches edge imports, values from npm and I/O", () => {
  assert.deepEqual(
    coreViolations("a.ts", 'import { KubeHttp } from "../kube/http.ts";'),
    ["a.ts imports ../kube/http.ts"],
  );
  assert.deepEqual(
    coreViolations("b.ts", 'import { trace } from "@opentelemetry/api";'),
    ["b.ts imports @opentelemetry/api"],
  );
  assert.deepEqual(
    coreViolations(
      "c.ts",
      'import { KubeConfig } from "@kubernetes/client-node";',
    ),
    ["c.ts imports @kubernetes/client-node"],
    "client-node's models as types only",
  );
  assert.deepEqual(
    coreViolations("d.ts", 'export { x } from "../events/dispatch.ts";'),
    ["d.ts imports ../events/dispatch.ts"],
  );
  assert.deepEqual(
    coreViolations("e.ts", "const t = Date.now(); await fetch(u);"),
    ["e.ts uses fetch", "e.ts uses Date.now"],
  );
  assert.deepEqual(
    coreViolations(
      "f.ts",
      'import type { V1Pod } from "@kubernetes/client-node";\nimport { plan } from "./plan.ts";\n// Deno.exit() in a comment is fine',
    ),
    [],
  );
});
