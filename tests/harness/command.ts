/**
 * Running a short command to completion and keeping what it printed.
 *
 * @module
 */

/** How a command ended: its exit code and its stdout followed by its stderr. */
export interface CommandOutput {
  code: number;
  success: boolean;
  output: string;
}

/**
 * Runs `command` with `args` and waits for it. A missing program throws
 * with a hint to install it.
 */
export async function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CommandOutput> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(command, {
      args,
      cwd: options.cwd,
      env: options.env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `${command} is not installed (Debian: apt-get install ${command}); .ci/run installs it`,
      );
    }
    throw error;
  }
  const decoder = new TextDecoder();
  return {
    code: result.code,
    success: result.success,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}
