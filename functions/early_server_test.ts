import assert from "node:assert/strict";
import { listenEarly } from "./early_server.ts";

Deno.test("listenEarly holds requests until the handler is ready, then answers them with it", async () => {
  const early = listenEarly({ port: 0, hostname: "127.0.0.1" });
  const url = `http://127.0.0.1:${early.server.addr.port}`;
  let settled = false;
  const held = fetch(`${url}/readyz`).then(async (response) => {
    settled = true;
    return `${response.status} ${await response.text()}`;
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(settled, false, "answered before the function was ready");
  early.ready((request) =>
    Promise.resolve(new Response(`first ${new URL(request.url).pathname}`))
  );
  early.ready(() => Promise.resolve(new Response("second")));
  assert.equal(await held, "200 first /readyz");
  const later = await fetch(`${url}/x`);
  assert.equal(await later.text(), "first /x", "only the first handler counts");
  await early.server.shutdown();
});
