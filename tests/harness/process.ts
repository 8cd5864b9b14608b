/**
 * Child processes of the test bed: output goes to a log file, the process
 * is bound to this one with the kernel's parent-death signal (so it dies
 * even when this process is killed with SIGKILL), and stopping it sends
 * SIGTERM, then SIGKILL after a grace period.
 *
 * @module
 */

/** How to start one component. */
export interface ProcessSpec {
  /** Short name used in messages. */
  name: string;
  /** Executable path. */
  command: string;
  args: string[];
  /** Complete environment of the child (nothing is inherited). */
  env: Record<string, string>;
  /** File receiving stdout and stderr. */
  logPath: string;
  cwd?: string;
  /** Also copy its output to this process's stdout (the dev loop). */
  echo?: boolean;
}

/** A running component. */
export class ManagedProcess {
  /** The spec it was started from. */
  readonly spec: ProcessSpec;
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;
  #exitStatus: Deno.CommandStatus | undefined;

  /** Starts `spec` (under `setpriv --pdeathsig KILL`). */
  constructor(spec: ProcessSpec) {
    this.spec = spec;
    this.#child = new Deno.Command("setpriv", {
      args: ["--pdeathsig", "KILL", "--", spec.command, ...spec.args],
      env: spec.env,
      clearEnv: true,
      cwd: spec.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const log = Deno.openSync(spec.logPath, {
      write: true,
      create: true,
      append: true,
    });
    const copy = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) {
        log.writeSync(chunk);
        if (spec.echo) Deno.stdout.writeSync(chunk);
      }
    };
    this.#drained = Promise.all([
      copy(this.#child.stdout),
      copy(this.#child.stderr),
    ]).then(() => log.close(), () => log.close());
    this.#child.status.then((status) => this.#exitStatus = status);
  }

  /** The process id (setpriv execs the command, so it is the command's). */
  get pid(): number {
    return this.#child.pid;
  }

  /** The exit status once the process has exited, else undefined. */
  get exitStatus(): Deno.CommandStatus | undefined {
    return this.#exitStatus;
  }

  /** Resolves when the process has exited and its output is written. */
  async exited(): Promise<Deno.CommandStatus> {
    const status = await this.#child.status;
    await this.#drained;
    return status;
  }

  /** The last `lines` lines of its log, for error messages. */
  async tail(lines = 30): Promise<string> {
    const text = await Deno.readTextFile(this.spec.logPath).catch(() => "");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  }

  /** Stops it: SIGTERM, then SIGKILL after `graceMs`. Idempotent. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.#exitStatus === undefined) {
      trySignal(this.#child, "SIGTERM");
      const timer = setTimeout(
        () => trySignal(this.#child, "SIGKILL"),
        graceMs,
      );
      try {
        await this.#child.status;
      } finally {
        clearTimeout(timer);
      }
    }
    await this.#drained;
  }
}

function trySignal(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // already exited
  }
}

/**
 * True while a process with this id exists (zombies included). Asks the
 * shell's `kill -0`: Deno allows reading `/proc` only with --allow-all.
 */
export async function processExists(pid: number): Promise<boolean> {
  const { success } = await new Deno.Command("sh", {
    args: ["-c", 'kill -0 "$1" 2>/dev/null', "sh", String(pid)],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return success;
}

/** The ids among `pids` whose processes still exist. */
export async function runningOf(pids: number[]): Promise<number[]> {
  const alive = await Promise.all(pids.map(processExists));
  return pids.filter((_, i) => alive[i]);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
