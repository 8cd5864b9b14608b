/**
 * Knative's sender identity (`authentication-oidc`), as its controllers set
 * it up, for the test bed and the dev loop: each source gets a
 * ServiceAccount of its own (named as `knative.dev/pkg` names it), a Role
 * letting the source's adapter mint tokens for it, and its adapter gets
 * `K_AUDIENCE` and `K_OIDC_SERVICE_ACCOUNT`.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { KubeObject } from "../../lib/core/objects.ts";

const LONGEST = 63;
const MD5_LENGTH = 32;
const HEAD = LONGEST - MD5_LENGTH;

function md5(text: string): string {
  return createHash("md5").update(text).digest("hex");
}

/**
 * `kmeta.ChildName` of knative.dev/pkg: `parent + suffix`, hashed and cut
 * to fit 63 characters when it is longer.
 */
export function childName(parent: string, suffix: string): string {
  let name = parent;
  if (parent.length > LONGEST - suffix.length) {
    if (HEAD - suffix.length <= 0) {
      let ret = parent.slice(0, HEAD) + md5(parent + suffix);
      const room = LONGEST - ret.length;
      if (room > 0) ret += suffix.slice(0, room);
      return ret.replace(/[^a-zA-Z0-9]+$/, "");
    }
    name = parent.slice(0, HEAD - suffix.length) + md5(parent);
  }
  return name + suffix;
}

/**
 * The ServiceAccount Knative makes for a source's OIDC identity
 * (`pkg/auth.GetOIDCServiceAccountNameForResource`).
 */
export function oidcServiceAccountName(
  source: { name: string; apiVersion: string; kind: string },
): string {
  const group = source.apiVersion.split("/")[0]!;
  return childName(source.name, `-oidc-${group}-${source.kind}`)
    .toLowerCase();
}

/** A source with sender identity: who it runs as and who it sends as. */
export interface OidcSender {
  /** The source's name and namespace. */
  name: string;
  namespace: string;
  /** The identity its adapter runs as (`spec.serviceAccountName`). */
  serviceAccountName: string;
  /** The identity its events carry. */
  oidcServiceAccount: string;
}

/**
 * What Knative's controller creates for a sender: its OIDC ServiceAccount,
 * and a Role + RoleBinding letting the adapter's identity mint that
 * account's tokens (`create serviceaccounts/token`, that name only).
 */
export function oidcObjects(sender: OidcSender): KubeObject[] {
  const { namespace } = sender;
  const role = `${sender.name}-create-oidc-token`;
  return [
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: {
        name: sender.oidcServiceAccount,
        namespace,
        labels: { "eventing.knative.dev/oidc": "enabled" },
      },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: role, namespace },
      rules: [{
        apiGroups: [""],
        resources: ["serviceaccounts/token"],
        resourceNames: [sender.oidcServiceAccount],
        verbs: ["create"],
      }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: role, namespace },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: role,
      },
      subjects: [{
        kind: "ServiceAccount",
        name: sender.serviceAccountName,
        namespace,
      }],
    },
  ];
}
