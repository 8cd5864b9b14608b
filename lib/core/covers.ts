/**
 * Whether an observed object already has everything a desired one states,
 * so applying it would change nothing and the call can be skipped — and if
 * not, where the first difference is (for traces; never the values, which
 * may be configuration a trace should not carry).
 *
 * @module
 */

/**
 * The path of the first field set in `desired` whose value differs in
 * `observed`, or `undefined` when `observed` covers `desired` (extra
 * observed fields, such as defaults the apiserver filled in, are fine).
 * Arrays must have the same length and cover element by element.
 *
 * @example
 * ```ts
 * difference({ spec: { replicas: 1 } }, { spec: { replicas: 3 } }); // "spec.replicas"
 * ```
 */
export function difference(
  observed: unknown,
  desired: unknown,
  path = "",
): string | undefined {
  const here = path || "(object)";
  if (desired === undefined) return undefined;
  if (desired === null || typeof desired !== "object") {
    return observed === desired ? undefined : here;
  }
  if (observed === null || typeof observed !== "object") return here;
  if (Array.isArray(desired)) {
    if (!Array.isArray(observed) || observed.length !== desired.length) {
      return here;
    }
    for (const [i, value] of desired.entries()) {
      const found = difference(observed[i], value, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (Array.isArray(observed)) return here;
  const have = observed as Record<string, unknown>;
  for (const [key, value] of Object.entries(desired)) {
    const found = difference(have[key], value, path ? `${path}.${key}` : key);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * True when every field set in `desired` has the same value in `observed`.
 *
 * @example
 * ```ts
 * covers({ spec: { replicas: 3, paused: false } }, { spec: { replicas: 3 } }); // true
 * ```
 */
export function covers(observed: unknown, desired: unknown): boolean {
  return difference(observed, desired) === undefined;
}
