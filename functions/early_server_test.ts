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

Deno.test("listenEarly answers 503 beyond the requests it may hold, and lets go of a sender that gave up", async () => {
  const early = listenEarly({ port: 0, hostname: "127.0.0.1", maxHeld: 2 });
  const url = `http://127.0.0.1:${early.server.addr.port}`;
  const until = async (held: number) => {
    for (let i = 0; i < 200 && early.held !== held; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(early.held, held);
  };
  const first = fetch(`${url}/a`);
  const gaveUp = new AbortController();
  const second = fetch(`${url}/b`, { signal: gaveUp.signal }).catch((e) => e);
  await until(2);
  const refused = await fetch(`${url}/c`, {
    signal: AbortSignal.timeout(2000),
  });
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.match((await refused.json()).error, /already holds 2 requests/);
  gaveUp.abort();
  assert.ok((await second) instanceof Error);
  await until(1);
  const third = fetch(`${url}/d`);
  await until(2);
  const handled: string[] = [];
  early.ready((request) => {
    handled.push(new URL(request.url).pathname);
    return Promise.resolve(new Response(new URL(request.url).pathname));
  });
  assert.equal(await (await first).text(), "/a");
  assert.equal(await (await third).text(), "/d");
  assert.equal(early.held, 0);
  assert.deepEqual(handled, ["/a", "/d"], "the one given up is not handled");
  await early.server.shutdown();
});
