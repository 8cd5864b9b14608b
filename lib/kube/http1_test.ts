import assert from "node:assert/strict";
import { ConnectionError, Http1Client } from "./http1.ts";

/** A GET of `path`, given up after `ms` when given. */
function get(client: Http1Client, path: string, ms?: number) {
  return client.request(
    "GET",
    path,
    [],
    undefined,
    ms === undefined ? undefined : AbortSignal.timeout(ms),
  );
}

/** What `promise` rejected with, or `undefined` if it fulfilled. */
function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => undefined, (e) => e);
}

/** What a scripted server does with one request: answer bytes, or close/hang without answering. */
type Reply = string | "close" | "hang";

interface Seen {
  /** The connection (0, 1, …) it came on. */
  conn: number;
  head: string;
  body: string;
}

/** A TCP server that reads whole requests and answers each as `script` says. */
function scriptedServer(script: (seen: Seen, index: number) => Reply) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const seen: Seen[] = [];
  const enc = new TextEncoder();
  // one character per byte, so that lengths are byte counts
  const dec = new TextDecoder("latin1");
  const utf8 = (latin1: string) =>
    new TextDecoder().decode(
      Uint8Array.from(latin1, (c) => c.charCodeAt(0)),
    );
  (async () => {
    for await (const conn of listener) {
      const id = conns.length;
      conns.push(conn);
      (async () => {
        let text = "";
        const buf = new Uint8Array(65536);
        for (;;) {
          let end = text.indexOf("\r\n\r\n");
          while (end < 0) {
            const n = await conn.read(buf);
            if (n === null) return;
            text += dec.decode(buf.subarray(0, n));
            end = text.indexOf("\r\n\r\n");
          }
          const head = text.slice(0, end);
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          while (text.length < end + 4 + length) {
            const n = await conn.read(buf);
            if (n === null) return;
            text += dec.decode(buf.subarray(0, n));
          }
          const request = {
            conn: id,
            head,
            body: utf8(text.slice(end + 4, end + 4 + length)),
          };
          text = text.slice(end + 4 + length);
          seen.push(request);
          const reply = script(request, seen.length - 1);
          if (reply === "close") return conn.close();
          if (reply === "hang") continue;
          await conn.write(enc.encode(reply));
        }
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    seen,
    /** Closes the server side of every connection, as an idle timeout would. */
    dropConnections() {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    },
    [Symbol.dispose]() {
      listener.close();
      this.dropConnections();
    },
  };
}

const ok = (body: string) =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${
    new TextEncoder().encode(body).length
  }\r\n\r\n${body}`;
const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

Deno.test("Http1Client reads Content-Length and chunked answers on one kept connection", async () => {
  using server = scriptedServer((_, i) =>
    i === 0
      ? ok('{"é":1}')
      : "HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n" +
        '4;ext=1\r\n{"a"\r\n3\r\n:2}\r\n0\r\nx-trailer: y\r\n\r\n'
  );
  using client = new Http1Client({ server: server.url });
  const first = await client.request(
    "GET",
    "/a",
    [["accept", "x"]],
    undefined,
  );
  assert.deepEqual([first.status, first.body], [200, '{"é":1}']);
  const second = await client.request("POST", "/b", [], '{"ü":true}');
  assert.deepEqual([second.status, second.statusText, second.body], [
    201,
    "Created",
    '{"a":2}',
  ]);
  assert.deepEqual(server.seen.map((s) => s.conn), [0, 0], "one connection");
  assert.match(
    server.seen[0]!.head,
    /^GET \/a HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\naccept: x$/,
  );
  assert.match(
    server.seen[1]!.head,
    /content-length: 11/,
    "bytes, not characters",
  );
  assert.equal(server.seen[1]!.body, '{"ü":true}');
});

Deno.test("Http1Client drops a kept connection the server closed while it was idle", async () => {
  using server = scriptedServer(() => ok("{}"));
  using client = new Http1Client({ server: server.url });
  await get(client, "/a");
  assert.equal(client.connections, 1);
  server.dropConnections();
  await tick();
  assert.equal(client.connections, 0, "noticed without a request");
  const again = await client.request("POST", "/b", [], "{}");
  assert.equal(again.status, 200);
  assert.deepEqual(server.seen.map((s) => s.conn), [0, 1]);
});

Deno.test("Http1Client sends a GET again when its kept connection closes unanswered, never a POST", async () => {
  let closeNext = false;
  using server = scriptedServer(() => {
    if (!closeNext) return ok("{}");
    closeNext = false;
    return "close";
  });
  using client = new Http1Client({ server: server.url });
  await get(client, "/warm");
  closeNext = true;
  const again = await get(client, "/a");
  assert.equal(again.status, 200, "sent again on a new connection");
  assert.deepEqual(server.seen.map((s) => s.conn), [0, 0, 1]);
  closeNext = true;
  const post = await rejection(client.request("POST", "/b", [], "{}"));
  assert.ok(post instanceof ConnectionError, String(post));
  assert.equal(post.partial, false);
  assert.match(post.message, /^no answer/);
  assert.equal(server.seen.length, 4, "the POST was sent once");
});

Deno.test("Http1Client closes a connection the answer says to close, and reads an answer without length to its end", async () => {
  using server = scriptedServer((_, i) =>
    i === 0
      ? "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}"
      : "HTTP/1.0 200 OK\r\n\r\n[1]"
  );
  using client = new Http1Client({ server: server.url });
  await get(client, "/a");
  assert.equal(client.connections, 0);
  const noLength = get(client, "/b");
  await tick();
  server.dropConnections(); // the end of the body
  assert.equal((await noLength).body, "[1]");
  assert.equal(client.connections, 0);
});

Deno.test("Http1Client stops at the signal: no answer rejects with its reason, part of one is a partial ConnectionError", async () => {
  let partial = false;
  using server = scriptedServer(() =>
    partial ? "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{" : "hang"
  );
  using client = new Http1Client({ server: server.url });
  const none = await rejection(get(client, "/a", 50));
  assert.ok(none instanceof DOMException && none.name === "TimeoutError");
  partial = true;
  const some = await rejection(get(client, "/b", 100));
  assert.ok(some instanceof ConnectionError && some.partial, String(some));
  assert.ok(
    some.cause instanceof DOMException && some.cause.name === "TimeoutError",
  );
  assert.equal(client.connections, 0, "both connections closed");
});

Deno.test("Http1Client refuses a header or a path that would split the request", async () => {
  using server = scriptedServer(() => ok("{}"));
  using client = new Http1Client({ server: server.url });
  await assert.rejects(
    client.request(
      "GET",
      "/a",
      [["authorization", "Bearer x\r\nevil: 1"]],
      undefined,
    ),
    /line break/,
  );
  await assert.rejects(
    get(client, "/a b"),
    /not a request target/,
  );
  assert.equal(server.seen.length, 0, "nothing sent");
});

Deno.test("Http1Client refuses an answer that is not HTTP/1.x", async () => {
  using server = scriptedServer(() => "SSH-2.0-OpenSSH\r\n\r\n");
  using client = new Http1Client({ server: server.url });
  await assert.rejects(
    get(client, "/a"),
    (e) => e instanceof ConnectionError && /status line/.test(e.message),
  );
});

Deno.test("Http1Client keeps a path prefix of the server URL and opens connections ahead with warm", async () => {
  using server = scriptedServer(() => ok("{}"));
  using client = new Http1Client({ server: `${server.url}/k8s/clusters/c1/` });
  await client.warm(3);
  assert.equal(client.connections, 3);
  await get(client, "/api/v1/namespaces?limit=1");
  assert.match(
    server.seen[0]!.head,
    /^GET \/k8s\/clusters\/c1\/api\/v1\/namespaces\?limit=1 /,
  );
  assert.equal(client.connections, 3, "a warm connection was used");
});

Deno.test("Http1Client gives connections being warmed to requests sent meanwhile, opening only what they cannot cover", async () => {
  using server = scriptedServer(() => ok("{}"));
  using client = new Http1Client({ server: server.url });
  const warming = client.warm(2);
  // sent while the two are still connecting: two wait for them, two more
  // open their own (a request never waits on a connection promised to another)
  const answers = await Promise.all(
    ["/a", "/b", "/c", "/d"].map((path) => get(client, path)),
  );
  await warming;
  assert.ok(answers.every((a) => a.status === 200));
  assert.equal(client.opened, 4, "two warmed, two more, none twice");
  assert.equal(client.connections, 4);
});

Deno.test("Http1Client lets a request that waited for a warmed connection open its own when that failed", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close(); // nothing listens there now
  using client = new Http1Client({ server: `http://127.0.0.1:${port}` });
  const warming = client.warm(1);
  // the signal only turns a hang into a failure
  const failure = await rejection(get(client, "/a", 2_000));
  await warming;
  assert.match(
    String(failure),
    /refused/i,
    "its own failure, not a wait until some timeout",
  );
});

Deno.test("Http1Client opens at most maxConnections and keeps them: requests above wait, none is refused", async () => {
  using server = scriptedServer(() => ok("{}"));
  using client = new Http1Client({ server: server.url, maxConnections: 3 });
  for (let round = 0; round < 3; round++) {
    const answers = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => get(client, `/r${round}-${i}`),
      ),
    );
    assert.ok(answers.every((a) => a.status === 200));
  }
  assert.equal(server.seen.length, 30);
  assert.equal(client.opened, 3, "no connection opened again");
  assert.deepEqual(
    new Set(server.seen.map((s) => s.conn)),
    new Set([0, 1, 2]),
  );
});

Deno.test("Http1Client stops waiting for a connection at the signal", async () => {
  using server = scriptedServer(() => "hang");
  using client = new Http1Client({ server: server.url, maxConnections: 1 });
  const first = rejection(get(client, "/a", 300));
  const waiting = await rejection(get(client, "/b", 50));
  assert.ok(
    waiting instanceof DOMException && waiting.name === "TimeoutError",
  );
  assert.equal(server.seen.length, 1, "the waiting request was never sent");
  await first;
});

Deno.test("Http1Client stops at the signal while a proxy never answers its CONNECT", async () => {
  const proxy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of proxy) held.push(conn); // says nothing
  })().catch(() => {});
  using client = new Http1Client({
    server: "https://127.0.0.1:1",
    proxy: `http://127.0.0.1:${(proxy.addr as Deno.NetAddr).port}`,
  });
  try {
    const started = performance.now();
    await assert.rejects(
      get(client, "/version", 100),
      (e) => e instanceof DOMException && e.name === "TimeoutError",
    );
    assert.ok(performance.now() - started < 1_000);
    // not counted any more; that it was closed, the resource sanitizer checks
    assert.equal(client.connections, 0, "the hung connection was closed");
  } finally {
    client.close();
    proxy.close();
    for (const conn of held) conn.close();
  }
});

Deno.test("Http1Client lets a waiting request open a connection when one failed to open", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close(); // nothing listens there now
  using client = new Http1Client({
    server: `http://127.0.0.1:${port}`,
    maxConnections: 1,
  });
  const results = await Promise.allSettled([
    get(client, "/a"),
    // waits for the only slot; the signal only turns a hang into a failure
    get(client, "/b", 2_000),
  ]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
  assert.match(
    String((results[1] as PromiseRejectedResult).reason),
    /refused/i,
    "its own failure, not a wait until some timeout",
  );
});

Deno.test("Http1Client refuses an answer without length that an abort cut short", async () => {
  using server = scriptedServer(() => "HTTP/1.0 200 OK\r\n\r\n[1");
  using client = new Http1Client({ server: server.url });
  await assert.rejects(
    get(client, "/a", 100),
    (e) => e instanceof ConnectionError && e.partial,
  );
});
