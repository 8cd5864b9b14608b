/**
 * Where the test bed keeps what it builds and what it starts.
 *
 * @module
 */

/** This repository's root (two levels above this file). */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname
  .replace(/\/$/, "");

/** The Go wrapper modules, one per binary. */
export const GO_MODULES_DIR = `${REPO_ROOT}/tests/go`;

/**
 * The cache directory for built binaries and Knative CRDs, outside the git
 * tree: `$MYSQL_OPERATOR_CACHE`, else `$XDG_CACHE_HOME/mysql-operator-fn`,
 * else `~/.cache/mysql-operator-fn`.
 */
export function cacheDir(): string {
  const explicit = Deno.env.get("MYSQL_OPERATOR_CACHE");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/mysql-operator-fn`;
  const home = Deno.env.get("HOME");
  if (!home) {
    throw new Error(
      "cannot place the build cache: set MYSQL_OPERATOR_CACHE or HOME",
    );
  }
  return `${home}/.cache/mysql-operator-fn`;
}

/** The parent of every control plane's temporary directory. */
export function runtimeTempRoot(): string {
  return Deno.env.get("TMPDIR") ?? "/tmp";
}
