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
