/**
 * Key material a fresh control plane needs: the ServiceAccount token
 * signing key and a random admin token.
 *
 * @module
 */

/** A ServiceAccount token signing key pair as PEM. */
export interface SigningKeyPem {
  /** PKCS#8 private key (`--service-account-signing-key-file`). */
  privateKey: string;
  /** SPKI public key (`--service-account-key-file`). */
  publicKey: string;
}

/** A new ECDSA P-256 key pair for signing ServiceAccount tokens (ES256). */
export async function generateSigningKeyPem(): Promise<SigningKeyPem> {
  const pair = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  return {
    privateKey: pem(
      "PRIVATE KEY",
      await crypto.subtle.exportKey("pkcs8", pair.privateKey),
    ),
    publicKey: pem(
      "PUBLIC KEY",
      await crypto.subtle.exportKey("spki", pair.publicKey),
    ),
  };
}

function pem(label: string, der: ArrayBuffer): string {
  let binary = "";
  for (const byte of new Uint8Array(der)) binary += String.fromCharCode(byte);
  const body = btoa(binary).match(/.{1,64}/g)!.join("\n");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** A random bearer token (32 bytes, hex). */
export function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
