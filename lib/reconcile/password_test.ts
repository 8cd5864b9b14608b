import assert from "node:assert/strict";
import { generatePassword } from "./password.ts";

Deno.test("generatePassword returns 32 letters and digits by default", () => {
  assert.match(generatePassword(), /^[A-Za-z0-9]{32}$/);
});

Deno.test("generatePassword never repeats", () => {
  const seen = new Set(
    Array.from({ length: 1000 }, () => generatePassword(24)),
  );
  assert.equal(seen.size, 1000);
});

Deno.test("generatePassword refuses fewer than 24 characters", () => {
  assert.throws(() => generatePassword(8), /≥ 24/);
});
