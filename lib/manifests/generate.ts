/**
 * `deno task manifests`: writes the generated files of `knative/base/` —
 * the CRD (from the schema), the RBAC (from the permission table) and the
 * admission policy that narrows it.
 * With `--check` it writes nothing and exits 1 naming each file that
 * differs from what would be generated.
 *
 * @module
 */

import {
  ADMISSION_POLICY_PATH,
  renderAdmissionPolicyYaml,
} from "./admission_policy.ts";
import { CRD_PATH, renderCrdYaml } from "./crd.ts";
import { RBAC_PATH, renderRbacYaml } from "./rbac.ts";

/** Every generated file: its path from the repository root and its text. */
export function generatedFiles(): { path: string; text: string }[] {
  return [
    { path: CRD_PATH, text: renderCrdYaml() },
    { path: RBAC_PATH, text: renderRbacYaml() },
    { path: ADMISSION_POLICY_PATH, text: renderAdmissionPolicyYaml() },
  ];
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  let stale = 0;
  for (const { path, text } of generatedFiles()) {
    const url = new URL(`../../${path}`, import.meta.url);
    if (check) {
      const committed = await Deno.readTextFile(url).catch(() => "");
      if (committed !== text) {
        stale++;
        console.error(`${path} is stale: run deno task manifests`);
      }
    } else {
      await Deno.writeTextFile(url, text);
      console.error(`wrote ${path}`);
    }
  }
  if (stale > 0) Deno.exit(1);
}
