/**
 * HTTP/1.1 to one server over kept-alive connections with TCP_NODELAY.
 *
 * Why not `fetch`: Deno's fetch leaves Nagle's algorithm on, so a new TLS
 * connection to a Go apiserver waits for a delayed ACK twice (the last
 * handshake flight, then the first request): ~45 ms + ~42 ms on loopback
 * against 3.5 ms + 0.5 ms here, and every later request ~1.1 ms against
 * ~0.4 ms (measured against kube-apiserver 1.35). The first event after a
 * cold start paid that on every connection it opened.
 *
 * What it does: one request per connection at a time; idle connections kept
 * (newest first) with a read pending on each, so a connection the server
 * closed is dropped at once instead of failing the next request; a request
 * that finds its reused connection closed before any answer is sent again on
 * a new one, unless it is a POST the server may have received (the operator's
 * PATCHes are applies and merge patches, its DELETEs accept a 404: sending
 * them twice leaves the same result);
 * `Content-Length` and chunked answers; an abort closes the connection.
 * Client certificates go through `Deno.connectTls` (its sockets keep
 * Nagle on: slower first requests, same answers), everything else through
 * `Deno.connect` + `setNoDelay` + `Deno.startTls`, through an HTTP proxy's
 * `CONNECT` tunnel when one is given.
 *
 * @module
 */

/** Where to connect and how to verify the server. */
export interface Http1Options {
  /** `https://host:port` or `http://host:port` (a path after it is kept as a prefix). */
  server: string;
  /** PEM CA bundle added to the default roots. */
  caCert?: string;
  /** PEM client certificate and key. */
  clientCert?: { cert: string; key: string };
  /**
   * An HTTP proxy (`http://[user:pass@]host:port`) that an https server is
   * reached through, with `CONNECT` (see `proxy.ts` for which one applies).
   */
  proxy?: string;
  /**
   * Connections open at most (default 32): a request beyond waits for one
   * to be free. Every connection is kept while idle, so a burst does not
   * open (and the apiserver sign) a TLS handshake per request above it.
   */
  maxConnections?: number;
}

/** One answer, its body read whole. */
export interface Http1Response {
  /** HTTP status code. */
  status: number;
  /** Reason phrase of the status line. */
  statusText: string;
  /** Header names in lower case (the last value of a repeated header). */
  headers: Map<string, string>;
  /** The body decoded as UTF-8. */
  body: string;
}

/** The connection closed, or the answer broke HTTP/1.1, before a whole answer came. */
export class ConnectionError extends Error {
  /** Part of the answer had come (it stopped on its way). */
  readonly partial: boolean;

  /** Builds the error. */
  constructor(message: string, partial = false, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionError";
    this.partial = partial;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const headDecoder = new TextDecoder("latin1");
const MAX_HEAD = 64 * 1024;
const BUFFER = 16 * 1024;
const CRLF = [13, 10];
/** Longest a connect, proxy tunnel and TLS handshake may take together. */
const CONNECT_TIMEOUT_MS = 10_000;
/** An idle connection older than this is closed instead of reused (below the apiserver's 90 s). */
const IDLE_MS = 60_000;
const CRLF2 = [13, 10, 13, 10];

/** A URL's host to connect to: an IPv6 address without its brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

/** Parts of the server URL a connection needs. */
interface Target {
  /** The host to connect to (an IPv6 address without brackets). */
  host: string;
  port: number;
  tls: boolean;
  /** `host:port` as the Host header and CONNECT write it (IPv6 in brackets). */
  authority: string;
  prefix: string;
}

function target(server: string): Target {
  const url = new URL(server);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError(`${server}: only https:// and http:// servers`);
  }
  const tls = url.protocol === "https:";
  const port = Number(url.port || (tls ? 443 : 80));
  return {
    host: hostOf(url),
    port,
    tls,
    authority: `${url.hostname}:${port}`,
    prefix: url.pathname.replace(/\/+$/, ""),
  };
}

/** One kept-alive connection; one exchange at a time. */
class Connection {
  readonly conn: Deno.Conn;
  #buf = new Uint8Array(BUFFER);
  #start = 0;
  #end = 0;
  /** The read in flight into `#buf[#end..]`, if any. */
  #reading: Promise<void> | undefined;
  #eof = false;
  #failure: unknown;
  #closed = false;
  /** Exchanges finished on this connection. */
  uses = 0;
  /** When it was last released. */
  idleSince = 0;
  /** Bytes of the current answer received (0: none yet). */
  received = 0;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  /** Starts a read; while idle, any outcome (EOF, bytes, error) makes it unusable. */
  watch(onBroken: () => void): void {
    this.conn.unref();
    this.#read().then(() => {
      if (this.idleSince > 0) onBroken();
    });
  }

  #read(): Promise<void> {
    if (this.#reading) return this.#reading;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      const live = this.#end - this.#start;
      const next = live * 2 > this.#buf.length
        ? new Uint8Array(this.#buf.length * 2)
        : this.#buf.length > BUFFER && live < BUFFER / 2
        ? new Uint8Array(BUFFER)
        : this.#buf;
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#start = 0;
      this.#end = live;
    }
    const reading = this.conn.read(this.#buf.subarray(this.#end)).then(
      (n) => {
        if (n === null) this.#eof = true;
        else this.#end += n;
      },
      (error) => {
        this.#failure = error;
        this.#eof = true;
      },
    ).finally(() => {
      this.#reading = undefined;
    });
    this.#reading = reading;
    return reading;
  }

  /** Reads more bytes; throws when the connection ended instead. */
  async #more(): Promise<void> {
    if (this.#eof) throw this.#ended();
    const before = this.#end;
    await this.#read();
    this.received += this.#end - before;
    if (this.#end === before && this.#eof) throw this.#ended();
  }

  #ended(): ConnectionError {
    const why = this.#failure instanceof Error
      ? this.#failure.message
      : "the server closed the connection";
    return new ConnectionError(
      this.received === 0
        ? `no answer: ${why}`
        : `the answer stopped after ${this.received} bytes: ${why}`,
      this.received > 0,
      { cause: this.#failure },
    );
  }

  /** Index of `pattern` in the unread bytes, or -1. */
  #find(pattern: number[]): number {
    const b = this.#buf;
    const last = this.#end - pattern.length;
    outer: for (let i = this.#start; i <= last; i++) {
      for (let j = 0; j < pattern.length; j++) {
        if (b[i + j] !== pattern[j]) continue outer;
      }
      return i;
    }
    return -1;
  }

  /** The text up to `end` (consumed with it), read within `limit` bytes. */
  async #until(end: number[], limit: number, what: string): Promise<string> {
    for (;;) {
      const at = this.#find(end);
      if (at >= 0) {
        const text = latin1(this.#buf.subarray(this.#start, at));
        this.#start = at + end.length;
        return text;
      }
      if (this.#end - this.#start > limit) {
        throw new ConnectionError(`${what} is over ${limit} bytes`);
      }
      await this.#more();
    }
  }

  #line(limit: number): Promise<string> {
    return this.#until(CRLF, limit, "an answer line");
  }

  #head(): Promise<string> {
    return this.#until(CRLF2, MAX_HEAD, "the answer's head");
  }

  /** Exactly `n` bytes of body. */
  async #bytes(n: number): Promise<Uint8Array> {
    if (this.#reading) await this.#reading;
    const out = new Uint8Array(n);
    let filled = Math.min(n, this.#end - this.#start);
    out.set(this.#buf.subarray(this.#start, this.#start + filled));
    this.#start += filled;
    while (filled < n) {
      if (this.#eof) throw this.#ended();
      let got: number | null;
      try {
        got = await this.conn.read(out.subarray(filled));
      } catch (error) {
        this.#failure = error;
        got = null;
      }
      if (got === null) {
        this.#eof = true;
        throw this.#ended();
      }
      filled += got;
      this.received += got;
    }
    return out;
  }

  async #chunked(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (;;) {
      const line = await this.#line(4096);
      const size = parseInt(line.split(";")[0]!.trim(), 16);
      if (!Number.isFinite(size) || size < 0) {
        throw new ConnectionError(`a chunk size is not hexadecimal: ${line}`);
      }
      if (size === 0) {
        while ((await this.#line(MAX_HEAD)) !== "") { /* trailers */ }
        break;
      }
      parts.push(await this.#bytes(size));
      if ((await this.#line(2)) !== "") {
        throw new ConnectionError("a chunk does not end with CRLF");
      }
    }
    return concat(parts);
  }

  async #untilEof(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for (;;) {
      this.received += this.#end - this.#start;
      parts.push(this.#buf.slice(this.#start, this.#end));
      this.#start = this.#end;
      // such a body ends with a close, not with a reset or an abort
      if (this.#eof && this.#failure !== undefined) throw this.#ended();
      if (this.#eof) break;
      await this.#read();
    }
    return concat(parts);
  }

  /** Sends `request` and reads one whole answer; `keepAlive` says whether the connection can be reused. */
  async exchange(
    request: Uint8Array,
    method: string,
  ): Promise<Http1Response & { keepAlive: boolean }> {
    this.idleSince = 0;
    this.received = 0;
    this.conn.ref();
    try {
      let written = 0;
      while (written < request.length) {
        written += await this.conn.write(request.subarray(written));
      }
    } catch (error) {
      throw new ConnectionError(
        `sending failed: ${error instanceof Error ? error.message : error}`,
        false,
        { cause: error },
      );
    }
    for (;;) {
      const head = await this.#head();
      const lines = head.split("\r\n");
      const status = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]!);
      if (!status) {
        throw new ConnectionError(
          `not an HTTP/1.x status line: ${lines[0]!.slice(0, 80)}`,
        );
      }
      const code = Number(status[2]);
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        if (colon > 0) {
          headers.set(
            line.slice(0, colon).trim().toLowerCase(),
            line.slice(colon + 1).trim(),
          );
        }
      }
      if (code >= 100 && code < 200) continue; // 100 Continue and the like
      const connection = headers.get("connection")?.toLowerCase() ?? "";
      let keepAlive = status[1] === "1"
        ? !connection.includes("close")
        : connection.includes("keep-alive");
      let body: Uint8Array;
      const length = headers.get("content-length");
      if (method === "HEAD" || code === 204 || code === 304) {
        body = new Uint8Array();
      } else if (
        headers.get("transfer-encoding")?.toLowerCase().includes("chunked")
      ) {
        body = await this.#chunked();
      } else if (length !== undefined) {
        const n = Number(length);
        if (!Number.isSafeInteger(n) || n < 0) {
          throw new ConnectionError(`a Content-Length of ${length}`);
        }
        body = await this.#bytes(n);
      } else {
        body = await this.#untilEof();
        keepAlive = false;
      }
      this.uses++;
      return {
        status: code,
        statusText: status[3] ?? "",
        headers,
        body: decoder.decode(body),
        keepAlive: keepAlive && this.#start === this.#end,
      };
    }
  }
}

/** The parts one after another. */
function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A head's bytes as text, one character per byte (WHATWG's `latin1`). */
function latin1(bytes: Uint8Array): string {
  return headDecoder.decode(bytes);
}

/** An HTTP proxy, parsed once. */
interface Proxy {
  /** `host:port`, for messages. */
  name: string;
  host: string;
  port: number;
  /** The `proxy-authorization` header line, or "". */
  credentials: string;
}

function proxyOf(proxy: string): Proxy {
  const url = new URL(proxy);
  return {
    name: url.host,
    host: hostOf(url),
    port: Number(url.port || 80),
    credentials: url.username
      ? `proxy-authorization: Basic ${
        btoa(
          `${decodeURIComponent(url.username)}:${
            decodeURIComponent(url.password)
          }`,
        )
      }\r\n`
      : "",
  };
}

/** Opens a tunnel to `to` on `tcp`, a connection to `proxy` (`CONNECT`). */
async function tunnel(
  tcp: Deno.TcpConn,
  proxy: Proxy,
  to: Target,
): Promise<void> {
  const { authority } = to;
  await tcp.write(
    encoder.encode(
      `CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n${proxy.credentials}\r\n`,
    ),
  );
  // byte by byte up to the blank line: what follows it is the server's
  let head = "";
  const byte = new Uint8Array(1);
  while (!head.endsWith("\r\n\r\n")) {
    if (head.length > MAX_HEAD || (await tcp.read(byte)) === null) {
      throw new ConnectionError(
        `the proxy ${proxy.name} closed the tunnel to ${authority}`,
      );
    }
    head += String.fromCharCode(byte[0]!);
  }
  const status = head.slice(0, head.indexOf("\r\n"));
  if (!/^HTTP\/1\.[01] 2\d\d/.test(status)) {
    throw new ConnectionError(
      `the proxy ${proxy.name} refused a tunnel to ${authority}: ${status}`,
    );
  }
}

/**
 * HTTP/1.1 client of one server.
 *
 * @example
 * ```ts
 * const client = new Http1Client({ server: "https://127.0.0.1:6443", caCert });
 * const answer = await client.request("GET", "/version", [["accept", "application/json"]]);
 * client.close();
 * ```
 */
export class Http1Client {
  readonly #target: Target;
  readonly #options: Http1Options;
  readonly #idle: Connection[] = [];
  readonly #busy = new Set<Connection>();
  /** Requests waiting for a connection: given one, or `undefined` to open one. */
  readonly #waiting: ((c: Connection | undefined) => void)[] = [];
  readonly #maxConnections: number;
  readonly #proxy: Proxy | undefined;
  #opening = 0;
  /** Connections {@linkcode Http1Client.warm} is opening (handshakes under way). */
  #warming = 0;
  #opened = 0;
  #closed = false;

  /** A client of `options.server`; no connection is opened yet. */
  constructor(options: Http1Options) {
    this.#target = target(options.server);
    this.#options = options;
    this.#maxConnections = options.maxConnections ?? 32;
    this.#proxy = options.proxy ? proxyOf(options.proxy) : undefined;
  }

  /** Connections open now (idle, in use and being opened). */
  get connections(): number {
    return this.#idle.length + this.#busy.size + this.#opening;
  }

  /** Connections opened since the client was made (for measurements). */
  get opened(): number {
    return this.#opened;
  }

  /** A new connection; `signal` ends a connect, tunnel or handshake that hangs. */
  async #connect(signal: AbortSignal): Promise<Connection> {
    const { host, port, tls } = this.#target;
    const caCerts = this.#options.caCert ? [this.#options.caCert] : [];
    const proxy = tls ? this.#proxy : undefined;
    let conn: Deno.Conn | undefined;
    const abort = () => conn?.close();
    signal.addEventListener("abort", abort, { once: true });
    try {
      if (tls && this.#options.clientCert) {
        if (proxy) {
          throw new ConnectionError(
            `no way through the proxy ${proxy.name} with a client certificate (Deno.startTls takes none): set NO_PROXY for ${host}`,
          );
        }
        conn = await Deno.connectTls({
          hostname: host,
          port,
          caCerts,
          alpnProtocols: ["http/1.1"],
          ...this.#options.clientCert,
        });
      } else {
        const tcp = await Deno.connect({
          hostname: proxy?.host ?? host,
          port: proxy?.port ?? port,
          signal,
        });
        conn = tcp;
        tcp.setNoDelay(true);
        if (proxy) await tunnel(tcp, proxy, this.#target);
        if (tls) {
          conn = await Deno.startTls(tcp, {
            hostname: host,
            caCerts,
            alpnProtocols: ["http/1.1"],
          });
        }
      }
      if (tls) await (conn as Deno.TlsConn).handshake();
      signal.throwIfAborted();
      return new Connection(conn);
    } catch (error) {
      try {
        conn?.close();
      } catch { /* closed */ }
      throw signal.aborted ? signal.reason : error;
    } finally {
      signal.removeEventListener("abort", abort);
    }
  }

  /** Opens a connection, for a request or (`ahead`) for {@linkcode Http1Client.warm}. */
  async #open(
    signal: AbortSignal | undefined,
    ahead = false,
  ): Promise<Connection> {
    this.#opening++;
    if (ahead) this.#warming++;
    try {
      const c = await this.#connect(
        signal
          ? AbortSignal.any([signal, AbortSignal.timeout(CONNECT_TIMEOUT_MS)])
          : AbortSignal.timeout(CONNECT_TIMEOUT_MS),
      );
      this.#opened++;
      if (this.#closed) {
        c.close();
        throw new ConnectionError("the client is closed");
      }
      this.#busy.add(c);
      return c;
    } catch (error) {
      // the slot it held is free again: a waiting request may open one
      queueMicrotask(() => this.#waiting.shift()?.(undefined));
      throw error;
    } finally {
      this.#opening--;
      if (ahead) this.#warming--;
    }
  }

  async #acquire(signal: AbortSignal | undefined): Promise<Connection> {
    if (this.#closed) throw new ConnectionError("the client is closed");
    const now = Date.now();
    for (;;) {
      const c = this.#idle.pop();
      if (!c) break;
      if (!c.closed && now - c.idleSince < IDLE_MS) {
        this.#busy.add(c);
        return c;
      }
      c.close();
    }
    // a connection being opened ahead is as near as a new one: wait for it
    // (one handshake, not two) unless every one is already promised
    if (
      this.#warming <= this.#waiting.length &&
      this.connections < this.#maxConnections
    ) {
      return await this.#open(signal);
    }
    const given = await new Promise<Connection | undefined>(
      (resolve, reject) => {
        const abort = () => {
          this.#waiting.splice(this.#waiting.indexOf(take), 1);
          reject(signal!.reason);
        };
        const take = (c: Connection | undefined) => {
          signal?.removeEventListener("abort", abort);
          resolve(c);
        };
        this.#waiting.push(take);
        signal?.addEventListener("abort", abort, { once: true });
      },
    );
    return given ?? await this.#acquire(signal);
  }

  #release(c: Connection, keepAlive: boolean): void {
    this.#busy.delete(c);
    const next = this.#waiting.shift();
    if (!keepAlive || this.#closed || c.closed) {
      c.close();
      next?.(undefined); // room for one more
      return;
    }
    if (next) {
      this.#busy.add(c);
      return next(c);
    }
    c.idleSince = Date.now();
    this.#idle.push(c);
    c.watch(() => {
      const at = this.#idle.indexOf(c);
      if (at >= 0) this.#idle.splice(at, 1);
      c.close();
    });
  }

  /**
   * Opens up to `n` connections now (TLS handshakes done), kept idle; each is
   * given to a waiting request as soon as it is open, and a request sent
   * meanwhile waits for one of them rather than opening another (one that
   * fails lets its waiting request open its own then: a handshake that hangs
   * delays that request up to the connect timeout). Settles when every one
   * has opened or failed.
   */
  async warm(n: number): Promise<void> {
    await Promise.allSettled(
      Array.from(
        { length: Math.min(n, this.#maxConnections) - this.connections },
        async () => this.#release(await this.#open(undefined, true), true),
      ),
    );
  }

  /**
   * Sends one request (`path` includes its query) and reads the whole answer.
   * Rejects with {@linkcode ConnectionError} when no whole answer came, and
   * with `signal.reason` when the signal aborted it before any answer (after
   * part of one: a partial `ConnectionError` caused by it); the connection is
   * closed.
   */
  async request(
    method: string,
    path: string,
    headers: [string, string][],
    body: string | undefined,
    signal?: AbortSignal,
  ): Promise<Http1Response> {
    if (this.#closed) throw new ConnectionError("the client is closed");
    signal?.throwIfAborted();
    if (!/^\/[\x21-\x7e]*$/.test(path)) {
      throw new TypeError(`not a request target: ${JSON.stringify(path)}`);
    }
    for (const [name, value] of headers) {
      if (/[\r\n]/.test(name + value)) {
        throw new TypeError(`header ${name} holds a line break`);
      }
    }
    const payload = body === undefined ? undefined : encoder.encode(body);
    let head =
      `${method} ${this.#target.prefix}${path} HTTP/1.1\r\nhost: ${this.#target.authority}\r\n`;
    for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
    if (
      payload || method === "POST" || method === "PUT" || method === "PATCH"
    ) {
      head += `content-length: ${payload?.length ?? 0}\r\n`;
    }
    const headBytes = encoder.encode(head + "\r\n");
    const request = payload
      ? new Uint8Array(headBytes.length + payload.length)
      : headBytes;
    if (payload) {
      request.set(headBytes);
      request.set(payload, headBytes.length);
    }
    for (let attempt = 0;; attempt++) {
      const c = await this.#acquire(signal);
      // kept before: answered a request, or opened ahead and idle since
      const reused = c.uses > 0 || c.idleSince > 0;
      const abort = () => c.close();
      signal?.addEventListener("abort", abort, { once: true });
      try {
        const answer = await c.exchange(request, method);
        this.#release(c, answer.keepAlive);
        return answer;
      } catch (error) {
        this.#release(c, false);
        if (signal?.aborted) {
          if (c.received === 0) throw signal.reason;
          throw new ConnectionError(
            `the answer stopped after ${c.received} bytes`,
            true,
            { cause: signal.reason },
          );
        }
        // a kept connection the server closed as we sent: nothing was answered;
        // sent again unless it was a POST the server may have acted on
        if (
          attempt === 0 && reused && c.received === 0 && method !== "POST" &&
          error instanceof ConnectionError
        ) continue;
        throw error;
      } finally {
        signal?.removeEventListener("abort", abort);
      }
    }
  }

  /** Closes every connection; later requests fail. */
  close(): void {
    this.#closed = true;
    for (const c of this.#idle.splice(0)) c.close();
    for (const c of this.#busy) c.close();
    this.#busy.clear();
    for (const take of this.#waiting.splice(0)) take(undefined);
  }

  /** Same as {@linkcode Http1Client.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
