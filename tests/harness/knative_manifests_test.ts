import assert from "node:assert/strict";
import type { KubeObject } from "../../lib/core/objects.ts";
import { parseManifests } from "./apply.ts";
import {
  checkPingSource,
  checkTrigger,
  derivePing,
  deriveSource,
  type ResolveResource,
  serviceEnv,
} from "./knative_manifests.ts";
import { REPO_ROOT } from "./paths.ts";

const resolve: ResolveResource = (apiVersion, kind) => {
  const [group, version] = apiVersion.includes("/")
    ? apiVersion.split("/") as [string, string]
    : ["", apiVersion];
  return Promise.resolve({
    group,
    version,
    resource: `${kind.toLowerCase()}s`,
  });
};

async function manifests(file: string): Promise<KubeObject[]> {
  const path = `${REPO_ROOT}/knative/${file}`;
  return parseManifests(await Deno.readTextFile(path), path);
}

function withNamespace(object: KubeObject): KubeObject {
  return {
    ...object,
    metadata: { ...(object.metadata as object), namespace: "mysql-operator" },
  };
}

Deno.test("deriveSource turns the committed ApiServerSources into adapter configs", async () => {
  const sources = (await manifests("base/sources.yaml")).filter((o) =>
    o.kind === "ApiServerSource"
  );
  const derived = await Promise.all(
    sources.map((s) => deriveSource(withNamespace(s), resolve)),
  );
  assert.deepEqual(derived.map((d) => d.name), [
    "mysql-clusters",
    "mysql-statefulsets",
  ]);
  const [clusters, statefulSets] = derived;
  assert.deepEqual(clusters!.config, {
    namespaces: [],
    allNamespaces: true,
    resources: [{
      gvr: {
        Group: "database.example.com",
        Version: "v1",
        Resource: "mysqlclusters",
      },
      selector: "",
    }],
    mode: "Resource",
  });
  assert.deepEqual(statefulSets!.config.owner, {
    apiVersion: "database.example.com/v1",
    kind: "MySQLCluster",
  });
  assert.equal(statefulSets!.serviceAccountName, "mysql-operator-sources");
});

Deno.test("deriveSource refuses a misspelt field, naming its path", async () => {
  const [source] = await manifests("base/sources.yaml");
  // deno-lint-ignore no-explicit-any
  const typo = structuredClone(withNamespace(source!)) as any;
  typo.spec.serviceAcountName = typo.spec.serviceAccountName;
  delete typo.spec.serviceAccountName;
  await assert.rejects(
    deriveSource(typo, resolve),
    /ApiServerSource mysql-clusters\.spec\.serviceAcountName is not a field/,
  );
  // deno-lint-ignore no-explicit-any
  const nested = structuredClone(withNamespace(source!)) as any;
  nested.spec.resources[0].apiversion = "v1";
  await assert.rejects(
    deriveSource(nested, resolve),
    /spec\.resources\[0\]\.apiversion is not a field/,
  );
  // deno-lint-ignore no-explicit-any
  const mode = structuredClone(withNamespace(source!)) as any;
  mode.spec.mode = "Resources";
  await assert.rejects(deriveSource(mode, resolve), /mode "Resources"/);
});

Deno.test("checkPingSource accepts the resync source and refuses bad ones", async () => {
  const ping = (await manifests("base/sources.yaml")).find((o) =>
    o.kind === "PingSource"
  )!;
  checkPingSource(ping);
  // deno-lint-ignore no-explicit-any
  const typo = structuredClone(ping) as any;
  typo.spec.shedule = typo.spec.schedule;
  assert.throws(() => checkPingSource(typo), /spec\.shedule is not a field/);
  // deno-lint-ignore no-explicit-any
  const cron = structuredClone(ping) as any;
  cron.spec.schedule = "every 10 minutes please";
  assert.throws(() => checkPingSource(cron), /not a five-field cron/);
});

Deno.test("checkTrigger accepts the broker variant's Trigger and refuses typos", async () => {
  const trigger = (await manifests("broker/broker.yaml")).find((o) =>
    o.kind === "Trigger"
  )!;
  checkTrigger(trigger);
  // deno-lint-ignore no-explicit-any
  const typo = structuredClone(trigger) as any;
  typo.spec.delivery.retries = 5;
  assert.throws(() => checkTrigger(typo), /spec\.delivery\.retries/);
});

Deno.test("the function accepts exactly the senders of knative/'s sources, for their audience", async () => {
  const base = await manifests("base/sources.yaml");
  const senders = [
    ...await Promise.all(
      base.filter((o) => o.kind === "ApiServerSource").map((s) =>
        deriveSource(withNamespace(s), resolve)
      ),
    ),
    ...base.filter((o) => o.kind === "PingSource").map((p) =>
      derivePing(withNamespace(p))
    ),
  ];
  const env = serviceEnv(await manifests("base/service.yaml"))!;
  assert.equal(env.SENDER_AUTH, "oidc");
  assert.deepEqual(
    env.SENDER_SERVICE_ACCOUNTS?.split(",").sort(),
    senders.map((s) => `mysql-operator/${s.oidcServiceAccount}`).sort(),
  );
  for (const sender of senders) {
    assert.equal(sender.audience, env.SENDER_AUDIENCE, sender.name);
  }
});
