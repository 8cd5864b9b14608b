/**
 * Running the function as its image does, without a container engine:
 * `deno task bundle`, the Dockerfile's COPY lines into a scratch root, its
 * RUN steps (the warm-up that fills Deno's code cache), then its
 * ENTRYPOINT (with this Deno) in its WORKDIR with its ENV — and nothing
 * writable, as under the Service's read-only root filesystem: the cache is
 * bind-mounted read-only when this process may mount (root), otherwise
 * Deno gets no cache at all.
 *
 * @module
 */

import { runCommand } from "./command.ts";
import type { ControlPlane } from "./control_plane.ts";
import { parseDockerfile } from "./dockerfile.ts";
import { REPO_ROOT } from "./paths.ts";

/** The image's command, ready for {@linkcode startFunction}'s `image` option. */
export interface ImageRun {
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** How Deno's cache is seen at run time. */
  cache: "read-only, warmed at build" | "none (could not mount read-only)";
}

/** Runs `deno task bundle` (writes `.build/function.js`). */
export async function buildBundle(): Promise<void> {
  const { success, output } = await runCommand(Deno.execPath(), [
    "task",
    "bundle",
  ], {
    cwd: REPO_ROOT,
  });
  if (!success) throw new Error(`deno task bundle failed:\n${output}`);
}

/** Succeeded, or false (also when the program is missing). */
async function tried(command: string, args: string[]): Promise<boolean> {
  return await runCommand(command, args).then((r) => r.success, () => false);
}

async function mountReadOnly(dir: string): Promise<boolean> {
  if (await tried("mount", ["--bind", dir, dir])) {
    if (await tried("mount", ["-o", "remount,ro,bind", dir])) return true;
    await tried("umount", [dir]);
  }
  return false;
}

/**
 * Lays out and "builds" the image under `<cp.dir>/image` (bundling first)
 * and returns the command it runs. A read-only mount is undone when the
 * control plane stops.
 */
export async function prepareImageRun(cp: ControlPlane): Promise<ImageRun> {
  const root = `${cp.dir}/image`;
  await buildBundle();
  const recipe = parseDockerfile(
    await Deno.readTextFile(`${REPO_ROOT}/knative/Dockerfile`),
  );
  const local = (path: string) => `${root}${path}`;
  const env = { ...recipe.env };
  if (env.DENO_DIR) env.DENO_DIR = local(env.DENO_DIR);
  await Deno.mkdir(local(recipe.workdir), { recursive: true });
  for (const { source, destination } of recipe.copies) {
    await Deno.mkdir(local(destination).replace(/\/[^/]+$/, ""), {
      recursive: true,
    });
    await Deno.copyFile(`${REPO_ROOT}/${source}`, local(destination));
  }
  for (const step of recipe.build) {
    if (step[0] !== "deno") {
      throw new Error(`RUN ${step[0]}: only deno runs here`);
    }
    const { success, output } = await runCommand(
      Deno.execPath(),
      step.slice(1),
      {
        cwd: local(recipe.workdir),
        env: { ...env, NO_COLOR: "1" },
      },
    );
    if (!success) throw new Error(`RUN ${step.join(" ")} failed:\n${output}`);
  }
  if (recipe.command[0] !== "deno") {
    throw new Error(`the image runs ${recipe.command[0]}, not deno`);
  }
  let cache: ImageRun["cache"] = "none (could not mount read-only)";
  if (env.DENO_DIR && await mountReadOnly(env.DENO_DIR)) {
    const dir = env.DENO_DIR;
    cp.own(async () => void await tried("umount", [dir]));
    cache = "read-only, warmed at build";
  } else {
    env.DENO_DIR = "/proc/self/no-deno-dir";
  }
  return {
    args: recipe.command.slice(1),
    cwd: local(recipe.workdir),
    env: { ...env, HOME: "/proc/self/no-home" },
    cache,
  };
}
