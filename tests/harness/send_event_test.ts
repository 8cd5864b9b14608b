import assert from "node:assert/strict";
import { parseEventArgs } from "./send_event.ts";

Deno.test("parseEventArgs reads the verb, the file and the options", () => {
  const args = parseEventArgs(
    [
      "update",
      "x.yaml",
      "--structured",
      "--url",
      "http://h:1/",
      "--namespace",
      "shop",
    ],
  );
  assert.deepEqual(args, {
    verb: "update",
    file: "x.yaml",
    structured: true,
    url: "http://h:1/",
    namespace: "shop",
  });
});

Deno.test("parseEventArgs defaults to the sample, binary mode and the dev address", () => {
  const args = parseEventArgs(["resync"]);
  assert.equal(args.structured, false);
  assert.match(args.file, /knative\/samples\/mysqlcluster_minimal\.yaml$/);
  assert.equal(args.url, "http://127.0.0.1:8081/");
  assert.equal(
    parseEventArgs(["add"], () => "http://f:2/").url,
    "http://f:2/",
  );
});

Deno.test("parseEventArgs refuses mistakes with the usage", () => {
  assert.throws(() => parseEventArgs([]), /usage: deno task event/);
  assert.throws(() => parseEventArgs(["create"]), /usage/);
  assert.throws(() => parseEventArgs(["add", "--url"]), /--url needs a value/);
  assert.throws(
    () => parseEventArgs(["add", "--binary"]),
    /unknown option --binary/,
  );
  assert.throws(
    () => parseEventArgs(["add", "a.yaml", "b.yaml"]),
    /unexpected b\.yaml/,
  );
});
