/**
 * ServiceAccounts with real tokens, so RBAC is tested by the apiserver.
 *
 * @module
 */

import { KubeApiError, type KubeHttp } from "../../lib/kube/http.ts";

/**
 * Creates the ServiceAccount `namespace/name` if it does not exist and mints
 * a token for it through the TokenRequest API (signed by the apiserver),
 * for `audiences` when given (else the apiserver's own).
 */
export async function serviceAccountToken(
  kube: KubeHttp,
  namespace: string,
  name: string,
  expirationSeconds = 3600,
  audiences?: string[],
): Promise<string> {
  const base = `/api/v1/namespaces/${namespace}/serviceaccounts`;
  try {
    await kube.request("POST", base, {
      body: {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name, namespace },
      },
    });
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 409)) throw error;
  }
  const answer = await kube.request<{ status?: { token?: string } }>(
    "POST",
    `${base}/${name}/token`,
    {
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds, ...(audiences ? { audiences } : {}) },
      },
    },
  );
  const token = answer.status?.token;
  if (!token) {
    throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  }
  return token;
}
