import assert from "node:assert/strict";
import { parseDockerfile } from "./dockerfile.ts";
import { REPO_ROOT } from "./paths.ts";

Deno.test("parseDockerfile reads the image's run-time command", async () => {
  const recipe = parseDockerfile(
    await Deno.readTextFile(`${REPO_ROOT}/knative/Dockerfile`),
  );
  assert.match(recipe.base, /^denoland\/deno:distroless-2\./);
  assert.equal(recipe.workdir, "/app");
  assert.deepEqual(recipe.copies, [{
    source: ".build/function.js",
    destination: "/app/function.js",
  }]);
  assert.equal(recipe.command[0], "deno");
  assert.deepEqual(recipe.build.map((c) => c.at(-1)), [
    "--warm-up",
    "--warm-up",
  ]);
  assert.equal(recipe.env.DENO_DIR, "/deno-dir");
  assert.equal(recipe.command.at(-1), "function.js");
  assert.ok(!recipe.command.includes("--allow-all"));
  assert.ok(!recipe.command.includes("-A"));
  assert.match(recipe.user ?? "", /^[1-9]\d*:[1-9]\d*$/, "numeric non-root");
});

Deno.test("parseDockerfile refuses a shell-form entrypoint", () => {
  assert.throws(
    () => parseDockerfile("FROM x\nENTRYPOINT deno run main.js\n"),
    /exec \(JSON\) form/,
  );
});

Deno.test("parseDockerfile keeps only the last stage", () => {
  const recipe = parseDockerfile(
    'FROM a AS build\nWORKDIR /src\nFROM b\nWORKDIR /app\nCMD ["run"]\n',
  );
  assert.equal(recipe.base, "b");
  assert.equal(recipe.workdir, "/app");
  assert.deepEqual(recipe.command, ["run"]);
});
