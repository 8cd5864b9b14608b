/**
 * Who may make the function act: Knative's sender identity
 * (`authentication-oidc`). Each source presents `Authorization: Bearer
 * <jwt>`, a ServiceAccount token the cluster issued for the function's
 * audience. It is verified here against the cluster's ServiceAccount issuer
 * (OIDC discovery, then the JWKS the apiserver publishes, with `jose`):
 * signature, issuer, audience, expiry — and its subject must be one of the
 * configured source ServiceAccounts. A verdict is cached until the token
 * expires (a refusal for 30 s at most), so a token costs one signature
 * check, not one per event.
 *
 * @module
 */

import * as jose from "jose";
import { isDnsLabel, isDnsSubdomain } from "../core/dns_names.ts";

/** How senders are checked. */
export interface SenderAuthConfig {
  /** `oidc`: every event needs a valid token of an allowed sender; `off`: none is checked. */
  mode: "oidc" | "off";
  /** The audience tokens must be issued for (`spec.sink.audience` of the sources). */
  audience: string;
  /** Allowed subjects, `system:serviceaccount:<namespace>:<name>`. */
  senders: string[];
}

/** The value of `SENDER_AUTH` that turns checking off — visible in `kn service describe`. */
export const AUTH_OFF = "insecure-off";

/**
 * Reads `SENDER_AUTH` (`oidc` — what `knative/` sets — or `insecure-off`;
 * unset is off, and the function says so loudly at every start),
 * `SENDER_AUDIENCE` and `SENDER_SERVICE_ACCOUNTS` (comma-separated
 * `namespace/name`). Throws naming the variable when one is missing or
 * malformed.
 */
export function senderAuthConfig(
  env: (name: string) => string | undefined,
): SenderAuthConfig {
  const mode = env("SENDER_AUTH") ?? AUTH_OFF;
  if (mode === AUTH_OFF) return { mode: "off", audience: "", senders: [] };
  if (mode !== "oidc") {
    throw new Error(
      `SENDER_AUTH="${mode}" is neither "oidc" nor "${AUTH_OFF}"`,
    );
  }
  const audience = env("SENDER_AUDIENCE")?.trim() ?? "";
  if (!audience) {
    throw new Error(
      `SENDER_AUDIENCE is not set: the audience the sources' tokens are issued for (their spec.sink.audience), or set SENDER_AUTH=${AUTH_OFF} on a cluster without Knative's authentication-oidc feature`,
    );
  }
  const senders = (env("SENDER_SERVICE_ACCOUNTS") ?? "").split(",")
    .map((entry) => entry.trim()).filter((entry) => entry !== "")
    .map((entry) => {
      const [namespace, name, extra] = entry.split("/");
      if (
        extra !== undefined || !namespace || !name ||
        !isDnsLabel(namespace) || !isDnsSubdomain(name)
      ) {
        throw new Error(
          `SENDER_SERVICE_ACCOUNTS: "${entry}" is not namespace/name of a ServiceAccount`,
        );
      }
      return `system:serviceaccount:${namespace}:${name}`;
    });
  if (senders.length === 0) {
    throw new Error(
      "SENDER_SERVICE_ACCOUNTS is empty: list the sources' ServiceAccounts as namespace/name, comma-separated",
    );
  }
  return { mode, audience, senders };
}

/** A JSON Web Key Set (RFC 7517), as `jose` takes it. */
export type KeySet = jose.JSONWebKeySet;

/** What checking a request's sender came to. */
export type Verdict =
  | { ok: true; sender: string }
  | { ok: false; status: 401 | 403; error: string };

/** Where the issuer and its keys come from (the apiserver's OIDC discovery). */
export interface KeySource {
  /** The discovery document's `issuer`. */
  issuer(): Promise<string>;
  /** The JSON Web Key Set that signs ServiceAccount tokens. */
  keys(): Promise<KeySet>;
}

interface Keys {
  issuer: string;
  set: ReturnType<typeof jose.createLocalJWKSet>;
  fetchedAt: number;
}

/** How long a set of keys is used before it is fetched again. */
const KEYS_TTL_MS = 60 * 60_000;
/** Least time between two fetches when a token names an unknown key. */
const KEYS_RETRY_MS = 10_000;
/** Verdicts kept at most (the oldest goes first). */
const CACHE_SIZE = 512;
/** How long a refused token's verdict is kept (no expiry to go by). */
const REFUSED_TTL_MS = 30_000;

/** Verifies senders' tokens, caching each verdict until the token expires (a refusal 30 s at most). */
export class SenderVerifier {
  readonly #config: SenderAuthConfig;
  readonly #source: KeySource;
  readonly #now: () => number;
  readonly #cache = new Map<string, { verdict: Verdict; until: number }>();
  #keys: Promise<Keys> | undefined;

  /** A verifier for `config` with keys from `source`; `now` for tests. */
  constructor(
    config: SenderAuthConfig,
    source: KeySource,
    now: () => number = Date.now,
  ) {
    this.#config = config;
    this.#source = source;
    this.#now = now;
  }

  async #loadKeys(): Promise<Keys> {
    const [issuer, keys] = await Promise.all([
      this.#source.issuer(),
      this.#source.keys(),
    ]);
    return {
      issuer,
      set: jose.createLocalJWKSet(keys),
      fetchedAt: this.#now(),
    };
  }

  /** The keys, fetched at first use and again when stale or when `refresh`. */
  async #currentKeys(refresh = false): Promise<Keys> {
    const current = this.#keys
      ? await this.#keys.catch(() => undefined)
      : undefined;
    const age = current ? this.#now() - current.fetchedAt : Infinity;
    if (
      !current || age > KEYS_TTL_MS || (refresh && age > KEYS_RETRY_MS)
    ) {
      this.#keys = this.#loadKeys();
      this.#keys.catch(() => this.#keys = undefined);
    }
    return await this.#keys!;
  }

  async #check(token: string): Promise<{ verdict: Verdict; until: number }> {
    const refused = (status: 401 | 403, error: string) => ({
      verdict: { ok: false as const, status, error },
      until: this.#now() + REFUSED_TTL_MS,
    });
    let payload: jose.JWTPayload;
    for (let attempt = 0;; attempt++) {
      const keys = await this.#currentKeys(attempt > 0);
      try {
        ({ payload } = await jose.jwtVerify(token, keys.set, {
          issuer: keys.issuer,
          audience: this.#config.audience,
          clockTolerance: 5,
          // the verifier's clock decides expiry, as it decides the cache
          currentDate: new Date(this.#now()),
          requiredClaims: ["exp", "sub"],
        }));
        break;
      } catch (error) {
        // keys rotate: a token signed by a new key fetches them once more
        if (error instanceof jose.errors.JWKSNoMatchingKey && attempt === 0) {
          continue;
        }
        return refused(401, tokenProblem(error, this.#config.audience));
      }
    }
    const sender = String(payload.sub);
    const until = Number(payload.exp) * 1000;
    if (!this.#config.senders.includes(sender)) {
      return {
        verdict: {
          ok: false,
          status: 403,
          error:
            `sender ${sender} is not one of the sources this function accepts`,
        },
        until,
      };
    }
    return { verdict: { ok: true, sender }, until };
  }

  /** Fetches the issuer's keys now (in the background; a failure is retried at first use). */
  prepare(): void {
    this.#currentKeys().catch(() => {});
  }

  /** The verdict on a request's `Authorization` header. */
  async verify(authorization: string | null): Promise<Verdict> {
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(
      authorization?.trim() ?? "",
    );
    if (!match) {
      return {
        ok: false,
        status: 401,
        error:
          `no bearer token: the sender must present an OIDC token issued for audience "${this.#config.audience}"`,
      };
    }
    const token = match[1]!;
    const cached = this.#cache.get(token);
    if (cached && cached.until > this.#now()) return cached.verdict;
    const checked = await this.#check(token);
    this.#cache.delete(token);
    this.#cache.set(token, checked);
    if (this.#cache.size > CACHE_SIZE) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
    return checked.verdict;
  }
}

/** A sender-facing reason a token was refused (never the token itself). */
function tokenProblem(error: unknown, audience: string): string {
  if (error instanceof jose.errors.JWTExpired) return "the token has expired";
  if (error instanceof jose.errors.JWTClaimValidationFailed) {
    return error.claim === "aud"
      ? `the token is not issued for audience "${audience}"`
      : `the token's ${error.claim} claim is not valid: ${error.reason}`;
  }
  if (error instanceof jose.errors.JWSSignatureVerificationFailed) {
    return "the token's signature does not verify against the cluster's ServiceAccount issuer";
  }
  if (error instanceof jose.errors.JWKSNoMatchingKey) {
    return "the token is signed by a key the cluster's ServiceAccount issuer does not publish";
  }
  if (error instanceof jose.errors.JOSEError) {
    return `the token is not a valid ServiceAccount token (${error.code})`;
  }
  throw error;
}
