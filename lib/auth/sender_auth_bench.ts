import * as jose from "jose";
import { SenderVerifier } from "./sender_auth.ts";

const SOURCE = "system:serviceaccount:mysql-operator:mysql-clusters-oidc";
const { privateKey, publicKey } = await jose.generateKeyPair("ES256", {
  extractable: true,
});
const jwk = { ...await jose.exportJWK(publicKey), kid: "k", alg: "ES256" };
let serial = 0;
const sign = (sub = SOURCE) =>
  new jose.SignJWT({ jti: String(serial++) })
    .setProtectedHeader({ alg: "ES256", kid: "k" })
    .setSubject(sub)
    .setAudience("mysql-operator-fn")
    .setIssuer("https://kubernetes.default.svc.cluster.local")
    .setExpirationTime("1h")
    .sign(privateKey);
const verifier = () =>
  new SenderVerifier({
    mode: "oidc",
    audience: "mysql-operator-fn",
    senders: [SOURCE],
  }, {
    issuer: () =>
      Promise.resolve("https://kubernetes.default.svc.cluster.local"),
    keys: () => Promise.resolve({ keys: [jwk] }),
  });

const cached = verifier();
const header = `Bearer ${await sign()}`;
await cached.verify(header);
Deno.bench(
  "sender auth: an event with a token already verified (cached)",
  async () => {
    const verdict = await cached.verify(header);
    if (!verdict.ok) throw new Error(verdict.error);
  },
);

const tokens = await Promise.all(
  Array.from({ length: 2000 }, () => sign()),
);
let next = 0;
const fresh = verifier();
await fresh.verify(`Bearer ${tokens[0]}`);
Deno.bench(
  "sender auth: a token seen for the first time (ES256 signature check)",
  async () => {
    const verdict = await fresh.verify(
      `Bearer ${tokens[next++ % tokens.length]}`,
    );
    if (!verdict.ok) throw new Error(verdict.error);
  },
);
