/**
 * Root passwords for new clusters, from the platform's cryptographic RNG.
 * The only randomness in the operator; the core receives the result.
 *
 * @module
 */

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A random password of `length` letters and digits (default 32, about 190
 * bits), without modulo bias. Safe in shells, URLs and MySQL.
 */
export function generatePassword(length = 32): string {
  if (!Number.isInteger(length) || length < 24) {
    throw new RangeError(
      `password length must be an integer ≥ 24, got ${length}`,
    );
  }
  const out: string[] = [];
  // 248 = 4 × 62: bytes at or above it would bias the first symbols
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 248 && out.length < length) out.push(ALPHABET[byte % 62]!);
    }
  }
  return out.join("");
}
