import assert from "node:assert/strict";
import { cryptoInitialised } from "./crypto_init.ts";

Deno.test("crypto_init settles without an error", async () => {
  assert.equal(await cryptoInitialised, undefined);
});
