/**
 * Kubernetes resource quantities ("10Gi", "500m", 1, "1e3"): the pattern the
 * apiserver accepts, parsing to a number, and comparison.
 *
 * @module
 */

/** The apiserver's quantity syntax (as in `resource.Quantity`), as a regular expression source. */
export const QUANTITY_PATTERN =
  "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

const QUANTITY = new RegExp(QUANTITY_PATTERN);

const SUFFIX: Record<string, number> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A quantity as written in a manifest: a string, or a plain number. */
export type Quantity = string | number;

/**
 * The value of a quantity as a number (bytes for storage, cores for CPU),
 * or `undefined` when it is not a valid quantity.
 *
 * @example
 * ```ts
 * parseQuantity("10Gi"); // 10737418240
 * parseQuantity("10 gigs"); // undefined
 * ```
 */
export function parseQuantity(quantity: Quantity): number | undefined {
  if (typeof quantity === "number") {
    return Number.isFinite(quantity) ? quantity : undefined;
  }
  if (!QUANTITY.test(quantity)) return undefined;
  const match = /^([+-]?[0-9.]+)(.*)$/.exec(quantity)!;
  const [, number, suffix] = match;
  if (suffix! in SUFFIX) return Number(number) * SUFFIX[suffix!]!;
  return Number(quantity); // decimal exponent, e.g. 1e3
}

/** The quantity in its canonical string form for a manifest ("1" for 1). */
export function quantityString(quantity: Quantity): string {
  return String(quantity);
}
