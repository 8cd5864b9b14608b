import assert from "node:assert/strict";
import { proxyFor } from "./proxy.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("proxyFor takes HTTPS_PROXY (either case) for an https server and never for an http one", () => {
  const server = "https://api.example.com:6443";
  assert.equal(proxyFor(server, env({})), undefined);
  assert.equal(
    proxyFor(server, env({ HTTPS_PROXY: "http://proxy:3128" })),
    "http://proxy:3128",
  );
  assert.equal(
    proxyFor(server, env({ https_proxy: "proxy:3128" })),
    "http://proxy:3128",
    "a bare host:port is an http proxy",
  );
  assert.equal(
    proxyFor(
      "http://127.0.0.1:8001",
      env({
        HTTPS_PROXY: "http://proxy:3128",
        HTTP_PROXY: "http://proxy:3128",
      }),
    ),
    undefined,
  );
});

Deno.test("proxyFor goes direct to what NO_PROXY names: *, the host, its domains, with or without port", () => {
  const proxied = (server: string, noProxy: string) =>
    proxyFor(
      server,
      env({ HTTPS_PROXY: "http://proxy:3128", NO_PROXY: noProxy }),
    ) !== undefined;
  assert.equal(proxied("https://api.example.com", "*"), false);
  assert.equal(
    proxied("https://api.example.com", "other.org, example.com"),
    false,
  );
  assert.equal(proxied("https://api.example.com", ".example.com"), false);
  assert.equal(proxied("https://api.example.com", "*.example.com"), false);
  assert.equal(
    proxied("https://api.example.com:6443", "api.example.com:443"),
    false,
  );
  assert.equal(proxied("https://10.96.0.1", "10.96.0.1"), false);
  assert.equal(proxied("https://[::1]:6443", "[::1]"), false);
  assert.equal(
    proxied("https://api.example.com", "ample.com"),
    true,
    "a suffix that is not a domain",
  );
  assert.equal(proxied("https://10.96.0.1", "10.0.0.0/8"), true, "no CIDR");
  assert.equal(proxied("https://api.example.com", ""), true);
});
