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

/** The DecimalSI suffix for each power of ten that has one (as in apimachinery's suffix.go). */
const DECIMAL_SUFFIX: Record<number, string> = {
  [-9]: "n",
  [-6]: "u",
  [-3]: "m",
  0: "",
  3: "k",
  6: "M",
  9: "G",
  12: "T",
  15: "P",
  18: "E",
};

/** The power of ten of each DecimalSI suffix ("" included). */
const DECIMAL_POWER: Record<string, string> = Object.fromEntries(
  Object.entries(DECIMAL_SUFFIX).map(([power, suffix]) => [suffix, power]),
);

const BINARY_SUFFIX = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/** 2^63-1: BinarySI amounts above it are capped (ParseQuantity's maxAllowed). */
const MAX_INT64 = (1n << 63n) - 1n;

/**
 * The largest exponent magnitude reproduced (less the input's length): near
 * 2^31 Go's int32 scale arithmetic overflows, so such input is refused
 * rather than guessed at.
 */
const MAX_EXPONENT = 2 ** 31 - 65;

type Format = "DecimalSI" | "BinarySI" | "DecimalExponent";

/** An exact signed decimal, `mantissa × 10^exponent`. */
interface Decimal {
  mantissa: bigint;
  exponent: number;
}

/** `10^n` as a bigint. */
function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** The same value with every factor of ten moved into the exponent. */
function stripZeros({ mantissa, exponent }: Decimal): Decimal {
  if (mantissa === 0n) return { mantissa, exponent: 0 };
  const digits = mantissa.toString();
  const zeros = digits.length - digits.replace(/0+$/, "").length;
  return { mantissa: mantissa / pow10(zeros), exponent: exponent + zeros };
}

/** Rounds away from zero to a whole number of nano units, as ParseQuantity does. */
function roundUpToNano(value: Decimal): Decimal {
  const { mantissa, exponent } = stripZeros(value);
  if (mantissa === 0n || exponent >= -9) return { mantissa, exponent };
  const sign = mantissa < 0n ? -1n : 1n;
  const magnitude = mantissa * sign;
  const drop = -9 - exponent;
  if (drop > magnitude.toString().length) {
    return { mantissa: sign, exponent: -9 };
  }
  const divisor = pow10(drop);
  const rounded = magnitude / divisor + (magnitude % divisor === 0n ? 0n : 1n);
  return { mantissa: sign * rounded, exponent: -9 };
}

/** The value as a bigint when it is a whole number (after stripZeros). */
function wholeNumber({ mantissa, exponent }: Decimal): bigint | undefined {
  return exponent >= 0 ? mantissa * pow10(exponent) : undefined;
}

/** Whether the magnitude of a value is above 2^63-1. */
function exceedsInt64({ mantissa, exponent }: Decimal): boolean {
  const magnitude = mantissa < 0n ? -mantissa : mantissa;
  return exponent >= 0
    ? magnitude * pow10(exponent) > MAX_INT64
    : magnitude > MAX_INT64 * pow10(-exponent);
}

/** CanonicalizeBytes: the canonical text of a non-zero exact value in a format. */
function canonicalText(value: Decimal, format: Format): string {
  const { mantissa, exponent } = stripZeros(value);
  if (mantissa === 0n) return "0";
  if (format === "BinarySI") {
    let whole = wholeNumber({ mantissa, exponent });
    if (whole !== undefined && (whole >= 1024n || whole <= -1024n)) {
      let power = 0;
      while (whole % 1024n === 0n) {
        whole /= 1024n;
        power++;
      }
      return `${whole}${BINARY_SUFFIX[power] ?? ""}`;
    }
    format = "DecimalSI"; // below 1024 in magnitude, or fractional
  }
  // AsCanonicalBytes: lower the exponent to a multiple of 3.
  const down = ((exponent % 3) + 3) % 3;
  const number = `${mantissa * pow10(down)}`;
  const scale = exponent - down;
  if (format === "DecimalExponent") {
    return scale === 0 ? number : `${number}e${scale}`;
  }
  // Above E (10^18) Go finds no suffix and emits none: "1000E" becomes "1".
  return number + (DECIMAL_SUFFIX[scale] ?? "");
}

/**
 * The string the Kubernetes apiserver stores for a `resource.Quantity`
 * written as `quantity` (what `Quantity.String()` gives after
 * `ParseQuantity`, k8s.io/apimachinery/pkg/api/resource), or `undefined`
 * when it is not a valid quantity.
 *
 * The suffix as written picks the format: `Ki`…`Ei` BinarySI, `e`/`E`
 * DecimalExponent, anything else DecimalSI. The value is kept exact
 * (bigint, never floating point), rounded away from zero to whole nano
 * units, and written as an integer mantissa with the largest exponent that
 * keeps it whole (a multiple of 3, or a power of 1024 for BinarySI).
 * BinarySI values below 1024 in magnitude or not whole are written as
 * DecimalSI; BinarySI values beyond 2^63-1 are capped there. Go's quirks are
 * kept: input it parses as already canonical is stored exactly as written
 * ("+1", "1.500", "1E3"), and DecimalSI values above 999E lose their suffix
 * ("1000E" is stored as "1").
 *
 * A number is first written as JSON writes it (`String(n)`: 0.5 as "0.5",
 * 1e-7 as "1e-7"), which is the text the apiserver parses. Exponents whose
 * magnitude comes within 64 plus the input's length of 2^31 (int32 overflow
 * in Go) are refused (`undefined`).
 *
 * @example
 * ```ts
 * canonicalQuantity("1024Mi"); // "1Gi"
 * canonicalQuantity("1.5Gi"); // "1536Mi"
 * canonicalQuantity(0.5); // "500m"
 * canonicalQuantity("2000"); // "2k"
 * canonicalQuantity("0.0000000001"); // "1n"
 * canonicalQuantity("10 gigs"); // undefined
 * ```
 */
export function canonicalQuantity(quantity: Quantity): string | undefined {
  if (typeof quantity === "number" && !Number.isFinite(quantity)) {
    return undefined;
  }
  const text = String(quantity);
  if (!QUANTITY.test(text)) return undefined;
  if (text === "0") return "0";
  const match = /^([+-]?)0*([0-9]*)(?:\.([0-9]*))?(.*)$/.exec(text)!;
  const negative = match[1] === "-";
  const num = match[2] || "0";
  const denom = match[3] ?? "";
  const suffix = match[4]!;

  let format: Format;
  let base: 2 | 10;
  let power: number;
  if (suffix in SUFFIX) {
    format = suffix.endsWith("i") ? "BinarySI" : "DecimalSI";
    base = suffix.endsWith("i") ? 2 : 10;
    power = base === 2
      ? 10 * BINARY_SUFFIX.indexOf(suffix)
      : Number(DECIMAL_POWER[suffix]);
  } else {
    // Go reads the exponent with strconv.ParseInt(…, 64) then casts to int32.
    if (!/^[eE][+-]?[0-9]+$/.test(suffix)) return undefined;
    const written = BigInt(suffix.slice(1));
    if (written !== BigInt.asIntN(64, written)) return undefined;
    format = "DecimalExponent";
    base = 10;
    power = Number(BigInt.asIntN(32, written));
    if (Math.abs(power) > MAX_EXPONENT - text.length) return undefined;
  }

  // ParseQuantity's fast path keeps the input itself as the cached String()
  // when it judges it already canonical.
  const shifted = num + denom;
  if (base === 10) {
    const scale = power - denom.length;
    if (
      shifted.length <= 18 && scale >= -9 && scale % 3 === 0 &&
      !shifted.endsWith("000") && !shifted.startsWith("0")
    ) {
      return text;
    }
  } else if (denom === "" && 14 - num.length - (power / 10) * 3 >= 0) {
    if ((BigInt(num) & 7n) !== 0n) return text;
  }

  const sign = negative ? -1n : 1n;
  let value: Decimal = {
    mantissa: sign * BigInt(shifted),
    exponent: -denom.length,
  };
  if (base === 10) value.exponent += power;
  else value.mantissa *= 1n << BigInt(power);
  value = roundUpToNano(value);
  if (base === 2 && exceedsInt64(value)) {
    value = { mantissa: sign * MAX_INT64, exponent: 0 };
  }
  return canonicalText(value, format);
}
