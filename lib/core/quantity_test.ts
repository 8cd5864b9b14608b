import assert from "node:assert/strict";
import { canonicalQuantity, parseQuantity, type Quantity } from "./quantity.ts";

Deno.test("parseQuantity reads binary, decimal, milli and exponent suffixes", () => {
  assert.equal(parseQuantity("10Gi"), 10 * 2 ** 30);
  assert.equal(parseQuantity("1G"), 1e9);
  assert.equal(parseQuantity("500m"), 0.5);
  assert.equal(parseQuantity("1.5Ki"), 1536);
  assert.equal(parseQuantity("1e3"), 1000);
  assert.equal(parseQuantity(2), 2);
});

Deno.test("parseQuantity refuses what the apiserver refuses", () => {
  for (const bad of ["10 gigs", "", "Gi", "10GB", "1.2.3"]) {
    assert.equal(parseQuantity(bad), undefined, bad);
  }
  assert.equal(parseQuantity(Number.NaN), undefined);
});

// canonicalQuantity cases are ported from k8s.io/apimachinery v0.35.7,
// pkg/api/resource/quantity_test.go (the test named on each case), or follow
// from the cited lines of quantity.go / suffix.go where no test covers them.

/** Asserts canonicalQuantity(input) for each [input, what String() gives]. */
function expectCanonical(cases: [Quantity, string | undefined][]): void {
  for (const [input, expected] of cases) {
    assert.equal(canonicalQuantity(input), expected, `${input}`);
  }
}

Deno.test("canonicalQuantity writes decimal values with the largest SI suffix", () => {
  expectCanonical([
    // TestQuantityString: alternates re-emitted canonically.
    ["1000M", "1G"],
    ["0.001T", "1G"],
    ["1000u", "1m"],
    ["0.5", "500m"],
    ["1.08", "1080m"],
    ["1080000000n", "1080m"],
    ["5000m", "5"],
    // TestQuantityParse values, written by Quantity.String().
    ["0.0005k", "500m"],
    ["0.05", "50m"],
    [".0001k", "100m"],
    ["40.1T", "40100G"],
    ["2.5P", "2500T"],
    ["1.01E", "1010P"],
  ]);
});

Deno.test("canonicalQuantity keeps the DecimalExponent form with exponents in steps of 3", () => {
  expectCanonical([
    // TestQuantityString alternates.
    [".001e12", "1e9"],
    ["0.001e0", "1e-3"],
    ["1000e-12", "1e-9"],
    // TestQuantityParse values ("1.2e3" is 1200: exponent 0 has no suffix).
    ["1.2e3", "1200"],
    ["1.3E+6", "1300e3"],
    ["1.40e9", "1400e6"],
    ["1.53E12", "1530e9"],
    ["1.6e15", "1600e12"],
    ["1.7E18", "1700e15"],
    ["1e14", "100e12"],
    ["0.5e0", "500e-3"],
    ["0.5e-1", "50e-3"],
    ["0.5e-2", "5e-3"],
  ]);
});

Deno.test("canonicalQuantity writes binary values with the largest power of 1024", () => {
  expectCanonical([
    // TestQuantityParseEmit and TestQuantityString alternates.
    ["1024Mi", "1Gi"],
    ["307200Ki", "300Mi"],
    ["1025024Mi", "1001Gi"],
    ["1024Gi", "1Ti"],
    // TestQuantityParse values; the Quantity doc comment's "1.5Gi".
    ["8Ki", "8Ki"],
    ["0.5Mi", "512Ki"],
    ["1.5Gi", "1536Mi"],
    // TestQuantityParse "9Ei", "9223372036854775807Ki": capped at 2^63-1.
    ["9Ei", "9223372036854775807"],
    ["9223372036854775807Ki", "9223372036854775807"],
  ]);
});

Deno.test("canonicalQuantity falls back to DecimalSI for binary values below 1024 or fractional", () => {
  expectCanonical([
    // TestQuantityParseEmit.
    [".001Ki", "1024m"],
    [".000001Ki", "1024u"],
    [".000000001Ki", "1024n"],
    // TestQuantityString: decQuantity(5, 0, BinarySI) is "5".
    ["0.5Ki", "512"],
    // CanonicalizeBytes: AsScale(0) inexact, so DecimalSI (TestQuantityParse values).
    ["100.035Ki", "102435840m"],
    ["0.05Gi", "53687091200m"],
    ["0.025Ti", "27487790694400m"],
  ]);
});

Deno.test("canonicalQuantity rounds up to whole nano units", () => {
  expectCanonical([
    // TestQuantityParse "Things that saturate/round" and TestQuantityParseEmit.
    ["3.001n", "4n"],
    ["1.1E-9", "2e-9"],
    ["0.0000000001", "1n"],
    ["0.0000000005", "1n"],
    ["0.00000000050", "1n"],
    ["0.5e-9", "1e-9"],
    ["0.9n", "1n"],
    ["0.00000012345", "124n"],
    ["0.00000012354", "124n"],
    [".000000000001Ki", "2n"],
  ]);
});

Deno.test("canonicalQuantity keeps a minus sign and drops a recomputed plus", () => {
  expectCanonical([
    // TestQuantityParseEmit, negated; TestJSONWhitespace "-1".
    ["-1024Mi", "-1Gi"],
    ["-1000M", "-1G"],
    ["-.001Ki", "-1024m"],
    ["-.000000000001Ki", "-2n"],
    ["-1", "-1"],
    // TestQuantityParse tries "+" before every input; String() recomputes.
    ["+1024Mi", "1Gi"],
    ["+0.5", "500m"],
  ]);
});

Deno.test("canonicalQuantity writes every zero as 0", () => {
  expectCanonical([
    // TestQuantityParse zeros; TestQuantityString alternate "00".
    ["0", "0"],
    ["0n", "0"],
    ["0m", "0"],
    ["0Ki", "0"],
    ["0k", "0"],
    ["0Mi", "0"],
    ["0Gi", "0"],
    ["0T", "0"],
    ["00", "0"],
    ["-0", "0"],
  ]);
});

Deno.test("canonicalQuantity keeps input the fast path judges canonical as written", () => {
  expectCanonical([
    // TestQuantityString: a canonical input is copied as the cached string.
    ["1Ki", "1Ki"],
    ["300Mi", "300Mi"],
    ["1080m", "1080m"],
    ["80e-3", "80e-3"],
    ["1e3", "1e3"],
    ["100M", "100M"],
    ["12345", "12345"],
    ["1u", "1u"],
    // ParseQuantity caches str whenever scale%3 == 0, shifted has no "000"
    // tail and no leading 0 (decimal), or value&7 != 0 (binary): the written
    // sign, leading zeros, trailing decimals and exponent case survive.
    ["+1", "+1"],
    ["01", "01"],
    ["1.500", "1.500"],
    ["1.G", "1.G"],
    ["1E3", "1E3"],
    ["1e+3", "1e+3"],
    ["+1Ki", "+1Ki"],
    ["-1536Mi", "-1536Mi"],
    // TestQuantityParse values whose scale is already a multiple of 3.
    ["100.035k", "100.035k"],
    ["10.035M", "10.035M"],
    ["7.123456M", "7.123456M"],
    ["6.987654321G", "6.987654321G"],
    ["5.444T", "5.444T"],
  ]);
});

Deno.test("canonicalQuantity reproduces Go's suffix and exponent quirks", () => {
  expectCanonical([
    // suffix.go has no DecimalSI suffix above E: constructBytes gives none.
    ["1000E", "1"],
    ["1000000000000000000000", "1"],
    // suffix.go reads the exponent as int64 then casts it to int32.
    ["1e4294967297", "10"],
    ["1e9223372036854775808", undefined],
    // parseQuantityString refuses a fractional exponent the pattern allows.
    ["1e1.5", undefined],
    // Exponents near int32 overflow are refused here (see canonicalQuantity).
    ["1e2147483647", undefined],
    ["1e1000", "10e999"],
  ]);
});

Deno.test("canonicalQuantity reads numbers as their JSON text", () => {
  expectCanonical([
    // TestJSONWhitespace: JSON numbers 1, 10, -1 parse as their text.
    [1, "1"],
    [10, "10"],
    [-1, "-1"],
    [0.5, "500m"],
    [2000, "2k"],
    [-1.5, "-1500m"],
    [1e-7, "100e-9"],
    [1e21, "1e+21"],
    [0, "0"],
    [Number.NaN, undefined],
    [Number.POSITIVE_INFINITY, undefined],
  ]);
});

Deno.test("canonicalQuantity refuses what the apiserver refuses", () => {
  expectCanonical(
    // TestQuantityParse invalid inputs, and the empty string.
    [
      "1.1.M",
      "1+1.0M",
      "0.1mi",
      "0.1am",
      "aoeu",
      ".5i",
      "1i",
      "-3.01i",
      "-3.01e-",
      " 1",
      "1 ",
      "",
    ].map((input): [Quantity, undefined] => [input, undefined]),
  );
});
