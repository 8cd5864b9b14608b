import assert from "node:assert/strict";
import * as jose from "jose";
import {
  type KeySource,
  type SenderAuthConfig,
  senderAuthConfig,
  SenderVerifier,
} from "./sender_auth.ts";

const ISSUER = "https://kubernetes.default.svc.cluster.local";
const AUDIENCE = "mysql-operator-fn";
const SOURCE = "system:serviceaccount:mysql-operator:mysql-clusters-oidc";
const CONFIG: SenderAuthConfig = {
  mode: "oidc",
  audience: AUDIENCE,
  senders: [SOURCE],
};

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await jose.generateKeyPair("ES256", {
    extractable: true,
  });
  const jwk = { ...await jose.exportJWK(publicKey), kid, alg: "ES256" };
  return { privateKey, jwk };
}

/** A token as the cluster would issue it (overridable claims). */
async function token(
  key: Awaited<ReturnType<typeof keyPair>>,
  claims: {
    sub?: string;
    aud?: string;
    iss?: string;
    exp?: number;
  } = {},
  now = Date.now(),
): Promise<string> {
  return await new jose.SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: key.jwk.kid! })
    .setSubject(claims.sub ?? SOURCE)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuer(claims.iss ?? ISSUER)
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(claims.exp ?? Math.floor(now / 1000) + 3600)
    .sign(key.privateKey);
}

function source(keys: () => jose.JWK[]): KeySource & { fetches: number } {
  const counted = {
    fetches: 0,
    issuer: () => Promise.resolve(ISSUER),
    keys: () => {
      counted.fetches++;
      return Promise.resolve({ keys: keys() });
    },
  };
  return counted;
}

Deno.test("senderAuthConfig reads the mode, audience and senders", () => {
  const env = (values: Record<string, string>) => (name: string) =>
    values[name];
  assert.deepEqual(
    senderAuthConfig(env({
      SENDER_AUTH: "oidc",
      SENDER_AUDIENCE: AUDIENCE,
      SENDER_SERVICE_ACCOUNTS: " mysql-operator/a , mysql-operator/b-c.d",
    })),
    {
      mode: "oidc",
      audience: AUDIENCE,
      senders: [
        "system:serviceaccount:mysql-operator:a",
        "system:serviceaccount:mysql-operator:b-c.d",
      ],
    },
  );
  assert.equal(
    senderAuthConfig(env({ SENDER_AUTH: "insecure-off" })).mode,
    "off",
  );
  assert.equal(senderAuthConfig(env({})).mode, "off", "unset: off, loudly");
  assert.throws(
    () => senderAuthConfig(env({ SENDER_AUTH: "oidc" })),
    /SENDER_AUDIENCE is not set/,
  );
  assert.throws(
    () => senderAuthConfig(env({ SENDER_AUTH: "oidc", SENDER_AUDIENCE: "a" })),
    /SENDER_SERVICE_ACCOUNTS is empty/,
  );
  assert.throws(
    () =>
      senderAuthConfig(env({
        SENDER_AUTH: "oidc",
        SENDER_AUDIENCE: "a",
        SENDER_SERVICE_ACCOUNTS: "../x/y",
      })),
    /"\.\.\/x\/y" is not namespace\/name/,
  );
  assert.throws(
    () => senderAuthConfig(env({ SENDER_AUTH: "off" })),
    /neither "oidc" nor "insecure-off"/,
  );
});

Deno.test("SenderVerifier accepts a configured source's token", async () => {
  const key = await keyPair("k1");
  const verifier = new SenderVerifier(CONFIG, source(() => [key.jwk]));
  assert.deepEqual(await verifier.verify(`Bearer ${await token(key)}`), {
    ok: true,
    sender: SOURCE,
  });
});

Deno.test("SenderVerifier refuses a missing, malformed or untrustworthy token with 401", async () => {
  const key = await keyPair("k1");
  const stranger = await keyPair("k1"); // same kid, another key
  const verifier = new SenderVerifier(CONFIG, source(() => [key.jwk]));
  const cases: [string | null, RegExp][] = [
    [null, /no bearer token/],
    ["Basic dXNlcjpwYXNz", /no bearer token/],
    ["Bearer not-a-jwt", /not a valid ServiceAccount token/],
    [`Bearer ${await token(key, { aud: "other" })}`, /not issued for audience/],
    [`Bearer ${await token(key, { iss: "https://evil" })}`, /iss claim/],
    [
      `Bearer ${await token(key, { exp: Math.floor(Date.now() / 1000) - 60 })}`,
      /expired/,
    ],
    [`Bearer ${await token(stranger)}`, /signature does not verify/],
  ];
  for (const [header, reason] of cases) {
    const verdict = await verifier.verify(header);
    assert.ok(!verdict.ok, String(header));
    assert.equal(verdict.status, 401);
    assert.match(verdict.error, reason);
  }
});

Deno.test("SenderVerifier refuses a valid token of another ServiceAccount with 403", async () => {
  const key = await keyPair("k1");
  const verifier = new SenderVerifier(CONFIG, source(() => [key.jwk]));
  const verdict = await verifier.verify(
    `Bearer ${await token(key, { sub: "system:serviceaccount:default:app" })}`,
  );
  assert.deepEqual(verdict, {
    ok: false,
    status: 403,
    error:
      "sender system:serviceaccount:default:app is not one of the sources this function accepts",
  });
});

Deno.test("SenderVerifier checks a token once until it expires", async () => {
  let now = Date.now();
  const key = await keyPair("k1");
  let keys = [key.jwk];
  const keySource = source(() => keys);
  const verifier = new SenderVerifier(CONFIG, keySource, () => now);
  const bearer = `Bearer ${await token(key, {}, now)}`;
  assert.ok((await verifier.verify(bearer)).ok);
  keys = []; // keys gone: only a new check would notice
  now += 30 * 60_000;
  assert.ok((await verifier.verify(bearer)).ok, "cached until it expires");
  assert.equal(keySource.fetches, 1);
  keys = [key.jwk]; // published again: only its expiry can refuse it now
  now += 31 * 60_000; // past exp, and past the keys' lifetime
  assert.equal((await verifier.verify(bearer)).ok, false);
});

Deno.test("SenderVerifier fetches the keys again when a token names a new one", async () => {
  let now = Date.now();
  const old = await keyPair("old");
  const rotated = await keyPair("new");
  let keys = [old.jwk];
  const keySource = source(() => keys);
  const verifier = new SenderVerifier(CONFIG, keySource, () => now);
  assert.ok((await verifier.verify(`Bearer ${await token(old, {}, now)}`)).ok);
  keys = [old.jwk, rotated.jwk];
  now += 15_000;
  const verdict = await verifier.verify(
    `Bearer ${await token(rotated, {}, now)}`,
  );
  assert.ok(verdict.ok, JSON.stringify(verdict));
  assert.equal(keySource.fetches, 2);
});

Deno.test("SenderVerifier lets a failure to fetch the keys through (answered 503, retried)", async () => {
  const key = await keyPair("k1");
  const verifier = new SenderVerifier(CONFIG, {
    issuer: () => Promise.reject(new Error("GET /.well-known: no answer")),
    keys: () => Promise.resolve({ keys: [key.jwk] }),
  });
  await assert.rejects(
    verifier.verify(`Bearer ${await token(key)}`),
    /no answer/,
  );
});
