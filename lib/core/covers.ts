/**
 * Whether an observed object already has everything a desired one states,
 * so applying it would change nothing and the call can be skipped.
 *
 * @module
 */

/**
 * True when every field set in `desired` has the same value in `observed`
 * (extra observed fields, such as defaults the apiserver filled in, are
 * fine). Arrays must have the same length and cover element by element.
 *
 * @example
 * ```ts
 * covers({ spec: { replicas: 3, paused: false } }, { spec: { replicas: 3 } }); // true
 * ```
 */
export function covers(observed: unknown, desired: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null || typeof desired !== "object") {
    return observed === desired;
  }
  if (observed === null || typeof observed !== "object") return false;
  if (Array.isArray(desired)) {
    return Array.isArray(observed) && observed.length === desired.length &&
      desired.every((value, i) => covers(observed[i], value));
  }
  if (Array.isArray(observed)) return false;
  const have = observed as Record<string, unknown>;
  return Object.entries(desired).every(([key, value]) =>
    covers(have[key], value)
  );
}
