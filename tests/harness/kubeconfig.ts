/**
 * Kubeconfig files for the test bed's identities.
 *
 * @module
 */

import { stringify } from "yaml";

/** One identity on one apiserver. */
export interface KubeconfigInput {
  /** Base URL of the apiserver. */
  server: string;
  /** PEM bundle that verifies the apiserver's serving certificate. */
  caCert: string;
  /** Bearer token of the user. */
  token: string;
  /** Name of the user, cluster and context entries. */
  name: string;
  /** Default namespace of the context. */
  namespace?: string;
}

/**
 * Renders a kubeconfig with one cluster, one user and one current context.
 *
 * @example
 * ```ts
 * const yaml = renderKubeconfig({ server, caCert, token, name: "admin" });
 * ```
 */
export function renderKubeconfig(input: KubeconfigInput): string {
  const context: Record<string, string> = {
    cluster: input.name,
    user: input.name,
  };
  if (input.namespace) context.namespace = input.namespace;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{
      name: input.name,
      cluster: {
        server: input.server,
        "certificate-authority-data": base64(input.caCert),
      },
    }],
    users: [{ name: input.name, user: { token: input.token } }],
    contexts: [{ name: input.name, context }],
    "current-context": input.name,
  });
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
