import assert from "node:assert/strict";
import { isTransient } from "./errors.ts";
import { KubeApiError, KubeHttp } from "./http.ts";

/** A TCP server answering every request with `reply`, then doing `after`. */
function rawServer(
  reply: string,
  after: "stall" | "close",
): { url: string; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        await conn.read(new Uint8Array(4096));
        await conn.write(new TextEncoder().encode(reply));
        if (after === "close") conn.close();
      })().catch(() => {});
    }
  })().catch(() => {});
  const { port } = listener.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // closed already
        }
      }
    },
  };
}

const PARTIAL =
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"kind":';

Deno.test("KubeHttp answers a body that stops arriving as a retryable failure, within the call's timeout", async () => {
  const server = rawServer(PARTIAL, "stall");
  using kube = new KubeHttp({ server: server.url, timeoutMs: 300 });
  try {
    const started = performance.now();
    const error = await kube.request("GET", "/api/v1/namespaces/x").then(
      () => undefined,
      (e) => e,
    );
    assert.ok(error instanceof KubeApiError, String(error));
    assert.equal(error.status, 0);
    assert.match(
      error.message,
      /reading the answer failed: timed out after 300 ms/,
    );
    assert.ok(isTransient(error), "answered 503, redelivered");
    assert.ok(
      performance.now() - started < 2_000,
      "never a hang past the timeout",
    );
  } finally {
    server.close();
  }
});

Deno.test("KubeHttp answers a connection reset mid-body as a retryable failure", async () => {
  const server = rawServer(PARTIAL, "close");
  using kube = new KubeHttp({ server: server.url, timeoutMs: 5_000 });
  try {
    const error = await kube.request("GET", "/api/v1/namespaces/x").then(
      () => undefined,
      (e) => e,
    );
    assert.ok(error instanceof KubeApiError, String(error));
    assert.equal(error.status, 0);
    assert.ok(isTransient(error));
  } finally {
    server.close();
  }
});

Deno.test("KubeHttp reads the credentials once for requests sent at once, and again after a failed read", async () => {
  const seen: (string | null)[] = [];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      seen.push(request.headers.get("authorization"));
      return Response.json({});
    },
  );
  let reads = 0;
  let fail = true;
  using kube = new KubeHttp({
    server: `http://127.0.0.1:${server.addr.port}`,
    authorization: () => {
      reads++;
      return fail
        ? Promise.reject(new Error("token file unreadable"))
        : Promise.resolve(`Bearer t${reads}`);
    },
  });
  await assert.rejects(kube.request("GET", "/version"), /unreadable/);
  fail = false;
  await Promise.all(
    Array.from({ length: 5 }, () => kube.request("GET", "/version")),
  );
  assert.equal(reads, 2, "one failed read, then one read for five requests");
  assert.deepEqual(seen, Array(5).fill("Bearer t2"));
});
