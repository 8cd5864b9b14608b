import assert from "node:assert/strict";
import { podsUsed } from "./observation.ts";
import { clusterFixture } from "./test_fixtures.ts";

Deno.test("podsUsed only above one replica of a valid spec", () => {
  assert.equal(podsUsed(clusterFixture({ replicas: 3 })), true);
  assert.equal(podsUsed(clusterFixture({ replicas: 1 })), false);
  assert.equal(
    podsUsed(clusterFixture({ replicas: "three" as unknown as number })),
    false,
  );
});
