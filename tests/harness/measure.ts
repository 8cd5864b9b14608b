/**
 * Small measuring helpers for the benchmarks.
 *
 * @module
 */

/** Percentile `p` (0–100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))
  ]!;
}

/** Resident memory of a process in MiB (asks `ps`: Deno reads /proc only with --allow-all). */
export async function rssMiB(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
  }).output();
  return Number(new TextDecoder().decode(out.stdout).trim()) / 1024;
}

/**
 * Peak resident memory (VmHWM) of a process in MiB, from its
 * `/proc/<pid>/status` read by `grep` (for the same reason as
 * {@linkcode rssMiB}).
 */
export async function peakRssMiB(pid: number): Promise<number> {
  const out = await new Deno.Command("grep", {
    args: ["VmHWM", `/proc/${pid}/status`],
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const kib = /VmHWM:\s+(\d+)/.exec(decode(out.stdout))?.[1];
  if (kib === undefined) {
    throw new Error(
      `no VmHWM for process ${pid}: ${decode(out.stderr).trim() || "no line"}`,
    );
  }
  return Number(kib) / 1024;
}
