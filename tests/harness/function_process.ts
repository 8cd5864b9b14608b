/**
 * Runs the reconcile function the way `deno task start` does (the task's
 * own command and permissions, read from deno.json) as a child process, and
 * returns once its readiness endpoint answers.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import type { ControlPlane } from "./control_plane.ts";
import { freePort, ManagedProcess } from "./process.ts";
import { REPO_ROOT } from "./paths.ts";
import { delay } from "./wait.ts";

/** The `deno task start` command split into the arguments after `deno`. */
export function startTaskArgs(): string[] {
  const task = denoJson.tasks.start;
  const command = typeof task === "string" ? task : task.command;
  const [program, ...args] = command.split(/\s+/);
  if (program !== "deno") {
    throw new Error(`deno task start does not run deno: ${command}`);
  }
  return args;
}

/** Options of {@linkcode startFunction}. */
export interface FunctionOptions {
  /** Name used in log file names and messages. */
  name: string;
  /** Kubeconfig the function uses (default: the control plane's admin). */
  kubeconfig?: string;
  /** More environment (OTEL_*, K_SERVICE, LOG_LEVEL …). */
  env?: Record<string, string>;
  /**
   * Another way to run it: the arguments after `deno` and the working
   * directory (e.g. the image's ENTRYPOINT in its WORKDIR). The child then
   * gets only `env` (plus KUBECONFIG and PORT), not this process's caches.
   */
  image?: { args: string[]; cwd: string };
  /** Restart on source changes (`deno run --watch`). */
  watch?: boolean;
  /** Also print its output here (the dev loop). */
  echo?: boolean;
  /** Port to serve on (default: a free one). */
  port?: number;
}

/** A running function process. */
export class FunctionProcess {
  /** The process. */
  readonly process: ManagedProcess;
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  readonly #untie: () => void;

  /** @internal use {@linkcode startFunction}. */
  constructor(process: ManagedProcess, url: string, untie: () => void) {
    this.process = process;
    this.url = url;
    this.#untie = untie;
  }

  /** Everything it has logged so far. */
  async logs(): Promise<string> {
    return await Deno.readTextFile(this.process.spec.logPath).catch(() => "");
  }

  /** Its log lines parsed as JSON (non-JSON lines are skipped). */
  async logLines(): Promise<Record<string, unknown>[]> {
    return (await this.logs()).split("\n").flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });
  }

  /** Stops it (SIGTERM, then SIGKILL). Idempotent. */
  async stop(): Promise<void> {
    await this.process.stop();
    this.#untie();
  }

  /** Same as {@linkcode FunctionProcess.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** Environment a Deno child needs to find its caches. */
function denoEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["HOME", "DENO_DIR", "XDG_CACHE_HOME", "PATH"]) {
    const value = Deno.env.get(name);
    if (value) env[name] = value;
  }
  return env;
}

/**
 * Starts the function with `deno task start`'s command on a free port and
 * waits for `/readyz`. Tied to the control plane's lifetime.
 */
export async function startFunction(
  cp: Pick<ControlPlane, "dir" | "own" | "kubeconfigPath">,
  options: FunctionOptions,
): Promise<FunctionProcess> {
  const port = options.port ?? freePort();
  const args = options.image?.args ?? startTaskArgs();
  if (options.watch) {
    args.splice(args.indexOf("run") + 1, 0, "--watch", "--no-clear-screen");
  }
  const process = new ManagedProcess({
    name: `function ${options.name}`,
    command: Deno.execPath(),
    args,
    env: {
      ...(options.image ? {} : denoEnv()),
      KUBECONFIG: options.kubeconfig ?? cp.kubeconfigPath,
      PORT: String(port),
      // tests that post events themselves; `env` turns it on (SENDER_AUTH=oidc)
      SENDER_AUTH: "insecure-off",
      ...options.env,
    },
    cwd: options.image?.cwd ?? REPO_ROOT,
    logPath: `${cp.dir}/logs/function-${options.name}-${Date.now()}.log`,
    echo: options.echo ?? false,
  });
  const url = `http://127.0.0.1:${port}/`;
  const fn = new FunctionProcess(process, url, cp.own(() => process.stop()));
  const deadline = Date.now() + 30_000;
  while (true) {
    try {
      // held by the function until it is ready: bounded, so that the
      // deadline below is still checked
      const response = await fetch(`${url}readyz`, {
        signal: AbortSignal.timeout(1_000),
      });
      await response.body?.cancel();
      if (response.ok) return fn;
    } catch {
      // not listening yet
    }
    if (process.exitStatus || Date.now() > deadline) {
      await fn.stop();
      throw new Error(
        `function ${options.name} did not become ready (${
          process.exitStatus
            ? `exit code ${process.exitStatus.code}`
            : "timed out"
        }); last log lines:\n${await process.tail()}`,
      );
    }
    // often: the cold-start bench reads readiness from this loop
    await delay(5);
  }
}
