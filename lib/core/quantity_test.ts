import assert from "node:assert/strict";
import { parseQuantity } from "./quantity.ts";

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
