/**
 * End to end: `knative/` applied with kubectl to a real apiserver with the
 * Knative CRDs; the function run exactly as its image runs it, with its
 * ServiceAccount's token; the real ApiServerSource adapters configured from
 * the ApiServerSources in `knative/`, with the function as their sink. No
 * step calls the function: the adapters are its only callers.
 */

import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import type { KubeObject } from "../../lib/core/objects.ts";
import { permissionTable } from "../../lib/kube/api.ts";
import { loadKubeAccess } from "../../lib/kube/config.ts";
import { KubeHttp } from "../../lib/kube/http.ts";
import {
  type ApiServerSourceAdapter,
  startAdapter,
} from "../harness/adapter.ts";
import {
  applyObjects,
  discoveryResolver,
  objectPath,
  parseManifests,
} from "../harness/apply.ts";
import { startControlPlane } from "../harness/control_plane.ts";
import { installCrds, readKnativeCrds } from "../harness/crds.ts";
import { startFunction } from "../harness/function_process.ts";
import { prepareImageRun } from "../harness/image_run.ts";
import {
  checkPingSource,
  checkTrigger,
  deriveSource,
} from "../harness/knative_manifests.ts";
import { oidcObjects } from "../harness/knative_oidc.ts";
import { startOtlpReceiver } from "../harness/otlp_receiver.ts";
import { REPO_ROOT } from "../harness/paths.ts";
import { canDo, describe, rbacChecks } from "../harness/rbac_checks.ts";
import { serviceAccountToken } from "../harness/service_accounts.ts";
import { eventually } from "../harness/wait.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const OPERATOR_NS = "mysql-operator";
const NS = "shop";
const CLUSTERS = `/apis/database.example.com/v1/namespaces/${NS}/mysqlclusters`;
const STS = `/apis/apps/v1/namespaces/${NS}/statefulsets`;

Deno.test("knative/ deployed with kubectl, driven by the real adapters", async (t) => {
  await using cp = await startControlPlane();
  await installCrds(cp.kube, await readKnativeCrds(cp.binaries.knativeCrdDir));
  const kubectl = async (args: string[], stdin?: string) => {
    const result = await cp.kubectl(
      args,
      stdin === undefined ? {} : { stdin },
    );
    return result;
  };
  const render = async (dir: string) => {
    const result = await kubectl(["kustomize", `${REPO_ROOT}/${dir}`]);
    assert.equal(result.code, 0, result.stderr);
    return parseManifests(result.stdout, dir);
  };
  const base = await render("knative");
  const find = (objects: KubeObject[], kind: string, name?: string) =>
    objects.filter((o) =>
      o.kind === kind &&
      (name === undefined || (o.metadata as Any).name === name)
    );

  await t.step(
    "kubectl apply -k knative/ is accepted under strict validation",
    async () => {
      const result = await kubectl([
        "apply",
        "--server-side",
        "--field-manager=mysql-operator-install",
        "-k",
        `${REPO_ROOT}/knative`,
      ]);
      assert.equal(result.code, 0, result.stderr);
      // as README tells users: the CRD is served before clusters are made
      const wait = await kubectl([
        "wait",
        "--for=condition=Established",
        "--timeout=30s",
        "crd/mysqlclusters.database.example.com",
      ]);
      assert.equal(wait.code, 0, wait.stderr);
      for (const object of base) {
        await cp.kube.request("GET", await objectPath(cp.kube, object));
      }
    },
  );

  await t.step(
    "a misspelt field is refused, so the manifests are really checked",
    async () => {
      const service = structuredClone(
        find(base, "Service", "mysql-operator")[0],
      ) as Any;
      const spec = service.spec.template.spec;
      spec.containerConcurency = spec.containerConcurrency;
      delete spec.containerConcurrency;
      const result = await kubectl(
        ["apply", "--server-side", "--dry-run=server", "-f", "-"],
        JSON.stringify(service),
      );
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /containerConcurency/);
    },
  );

  await t.step("the Broker variant is accepted too", async () => {
    const result = await kubectl([
      "apply",
      "--server-side",
      "--dry-run=server",
      "--field-manager=mysql-operator-install",
      "-k",
      `${REPO_ROOT}/knative/broker`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const variant = await render("knative/broker");
    for (const trigger of find(variant, "Trigger")) checkTrigger(trigger);
    for (const ping of find(variant, "PingSource")) checkPingSource(ping);
    for (const source of find(variant, "ApiServerSource")) {
      assert.equal((source.spec as Any).sink.ref.kind, "Broker");
    }
  });

  await t.step(
    "the Service carries what kn service describe shows",
    async () => {
      const service = await cp.kube.request<Any>(
        "GET",
        `/apis/serving.knative.dev/v1/namespaces/${OPERATOR_NS}/services/mysql-operator`,
      );
      const labels = service.metadata.labels;
      assert.equal(
        labels["networking.knative.dev/visibility"],
        "cluster-local",
      );
      assert.equal(labels["app.kubernetes.io/name"], "mysql-operator-fn");
      assert.equal(labels["app.kubernetes.io/part-of"], "mysql-operator");
      assert.ok(labels["app.kubernetes.io/version"]);
      assert.ok(service.metadata.annotations.description);
      const template = service.spec.template;
      assert.equal(
        template.metadata.annotations["autoscaling.knative.dev/min-scale"],
        "0",
      );
      assert.equal(
        template.metadata.annotations["autoscaling.knative.dev/max-scale"],
        "1",
      );
      assert.equal(template.spec.serviceAccountName, "mysql-operator-fn");
      assert.ok(template.spec.containerConcurrency > 0);
      assert.ok(
        template.spec.timeoutSeconds >= 240 &&
          template.spec.timeoutSeconds <= 600,
      );
      const [container] = template.spec.containers;
      assert.equal(container.image, "ghcr.io/example/mysql-operator-fn:0.1.0");
      assert.equal(container.readinessProbe.httpGet.path, "/readyz");
      // no period: Knative's queue-proxy then probes every 50 ms while the
      // pod starts (its "aggressive" probing) instead of once a period
      assert.equal(container.readinessProbe.periodSeconds, undefined);
      assert.ok(
        container.resources.requests.cpu && container.resources.requests.memory,
      );
      assert.ok(container.resources.limits.memory);
      assert.deepEqual(container.securityContext, {
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      });
      const env = Object.fromEntries(
        container.env.map((e: Any) => [e.name, e.value]),
      );
      assert.match(env.OTEL_EXPORTER_OTLP_ENDPOINT, /^http/);
      assert.ok(env.OTEL_FLUSH_TIMEOUT_MS);
      for (
        const reserved of ["PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"]
      ) {
        assert.equal(
          env[reserved],
          undefined,
          `${reserved} is Knative's to set`,
        );
      }
    },
  );

  // identities from knative/ RBAC
  const fnKubeconfig = await cp.writeKubeconfig(
    "function",
    await serviceAccountToken(cp.kube, OPERATOR_NS, "mysql-operator-fn"),
  );
  const sourcesKubeconfig = await cp.writeKubeconfig(
    "sources",
    await serviceAccountToken(cp.kube, OPERATOR_NS, "mysql-operator-sources"),
  );
  const canI = async (kubeconfig: string, args: string[]) => {
    const result = await cp.kubectl(["auth", "can-i", ...args], { kubeconfig });
    return result.stdout.trim();
  };

  await t.step(
    "RBAC: the function has what the permission table declares and nothing else",
    async () => {
      using fnKube = new KubeHttp(await loadKubeAccess(fnKubeconfig));
      const checks = rbacChecks(permissionTable(), {
        namespace: NS,
        elsewhere: ["kube-system", OPERATOR_NS],
      });
      assert.ok(checks.allowed.length >= 15 && checks.denied.length >= 60);
      const wrong: string[] = [];
      for (
        const [expected, list] of [[true, checks.allowed], [
          false,
          checks.denied,
        ]] as const
      ) {
        for (const attributes of list) {
          if (await canDo(fnKube, attributes) !== expected) {
            wrong.push(
              `${expected ? "refused" : "allowed"}: ${describe(attributes)}`,
            );
          }
        }
      }
      assert.deepEqual(wrong, []);
      // kubectl agrees with the reviews (one each way)
      assert.equal(
        await canI(fnKubeconfig, ["patch", "statefulsets.apps", "-n", NS]),
        "yes",
      );
      assert.equal(
        await canI(fnKubeconfig, ["get", "secrets", "-n", "kube-system"]),
        "no",
      );
    },
  );

  await t.step("RBAC: the sources watch exactly what they watch", async () => {
    for (
      const resource of [
        "mysqlclusters.database.example.com",
        "statefulsets.apps",
      ]
    ) {
      for (const verb of ["get", "list", "watch"]) {
        assert.equal(
          await canI(sourcesKubeconfig, [verb, resource, "-A"]),
          "yes",
        );
      }
      assert.equal(
        await canI(sourcesKubeconfig, ["patch", resource, "-A"]),
        "no",
      );
    }
    for (const resource of ["secrets", "services", "pods", "events"]) {
      assert.equal(
        await canI(sourcesKubeconfig, ["watch", resource, "-A"]),
        "no",
      );
    }
  });

  // the function, run as its image runs it
  const image = await prepareImageRun(cp);
  const [service] = find(base, "Service", "mysql-operator") as Any[];
  const serviceEnv = Object.fromEntries(
    service.spec.template.spec.containers[0].env.map((
      e: Any,
    ) => [e.name, e.value]),
  );
  const receiver = startOtlpReceiver();
  await using fn = await startFunction(cp, {
    name: "image",
    kubeconfig: fnKubeconfig,
    image,
    env: {
      ...image.env,
      ...serviceEnv,
      // the cluster's collector address, here the test's receiver
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      // what Knative injects
      K_SERVICE: "mysql-operator",
      K_CONFIGURATION: "mysql-operator",
      K_REVISION: "mysql-operator-00001",
    },
  });

  // the adapters, configured from knative/'s ApiServerSources
  const resolve = discoveryResolver(cp.kube);
  const derived = await Promise.all(
    find(base, "ApiServerSource").map((s) => deriveSource(s, resolve)),
  );
  assert.equal(derived.length, 2);
  for (const ping of find(base, "PingSource")) checkPingSource(ping);
  const adapters: ApiServerSourceAdapter[] = [];
  for (const source of derived) {
    assert.deepEqual(source.sink.ref, {
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      name: "mysql-operator",
    });
    assert.equal(source.serviceAccountName, "mysql-operator-sources");
    assert.equal(source.namespace, OPERATOR_NS);
    assert.equal(source.audience, serviceEnv.SENDER_AUDIENCE);
    // what Knative's controller does with authentication-oidc on
    await applyObjects(cp.kube, oidcObjects(source));
    adapters.push(
      await startAdapter(cp, {
        name: source.name,
        namespace: source.namespace,
        sourceConfig: source.config,
        sink: fn.url,
        kubeconfig: sourcesKubeconfig,
        oidc: {
          audience: source.audience!,
          serviceAccount: source.oidcServiceAccount,
        },
      }),
    );
  }

  const sample = parseYaml(
    await Deno.readTextFile(
      `${REPO_ROOT}/knative/samples/mysqlcluster_minimal.yaml`,
    ),
  ) as Any;
  const name = sample.metadata.name;
  const getCluster = () => cp.kube.request<Any>("GET", `${CLUSTERS}/${name}`);
  const markReady = async (replicas: number) => {
    const sts = await cp.kube.request<Any>("GET", `${STS}/${name}`);
    await cp.kube.request("PUT", `${STS}/${name}/status`, {
      body: {
        ...sts,
        status: {
          observedGeneration: sts.metadata.generation,
          replicas,
          readyReplicas: replicas,
          currentReplicas: replicas,
          updatedReplicas: replicas,
          availableReplicas: replicas,
        },
      },
    });
  };

  await t.step(
    "a cluster created with the client gets its children and a status",
    async () => {
      await cp.kube.request("POST", "/api/v1/namespaces", {
        body: { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } },
      });
      await cp.kube.request("POST", CLUSTERS, {
        body: { ...sample, metadata: { ...sample.metadata, namespace: NS } },
      });
      const cluster = await eventually("status written", async () => {
        const cluster = await getCluster();
        assert.equal(cluster.status?.phase, "Provisioning");
        assert.ok(cluster.status.traceId);
        return cluster;
      }, 20_000);
      for (
        const path of [
          `${STS}/${name}`,
          `/api/v1/namespaces/${NS}/services/${name}`,
          `/api/v1/namespaces/${NS}/services/${name}-mysql`,
        ]
      ) {
        const child = await cp.kube.request<Any>("GET", path);
        assert.equal(
          child.metadata.ownerReferences[0].uid,
          cluster.metadata.uid,
        );
      }
      // the Secret exists, though the function itself may not read it
      await cp.kube.request(
        "GET",
        `/api/v1/namespaces/${NS}/secrets/${name}-credentials`,
      );
      const denied = await cp.kubectl(
        ["get", "secret", `${name}-credentials`, "-n", NS],
        { kubeconfig: fnKubeconfig },
      );
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /forbidden/);
      const traceId = cluster.status.traceId;
      assert.match(traceId, /^[0-9a-f]{32}$/);
      const spans = receiver.trace(traceId);
      const server = spans.find((s) => s.kind === 2);
      assert.ok(server, "the reconcile that wrote the status was traced");
      assert.equal(server.attributes["cloudevents.event_source"], cp.server);
    },
  );

  await t.step(
    "a StatefulSet that becomes ready makes the cluster Ready",
    async () => {
      await markReady(1);
      await eventually("Ready", async () => {
        const cluster = await getCluster();
        assert.equal(cluster.status?.phase, "Ready");
        assert.equal(cluster.status.readyReplicas, 1);
      }, 20_000);
    },
  );

  await t.step("scaling through the scale subresource converges", async () => {
    await cp.kube.request("PATCH", `${CLUSTERS}/${name}/scale`, {
      body: { spec: { replicas: 3 } },
      contentType: "application/merge-patch+json",
    });
    await eventually("StatefulSet scaled, with a budget", async () => {
      const sts = await cp.kube.request<Any>("GET", `${STS}/${name}`);
      assert.equal(sts.spec.replicas, 3);
      // applied in the same wave as the StatefulSet: may land a moment later
      await cp.kube.request(
        "GET",
        `/apis/policy/v1/namespaces/${NS}/poddisruptionbudgets/${name}`,
      );
    }, 20_000);
    await markReady(3);
    await eventually("Ready with 3", async () => {
      const cluster = await getCluster();
      assert.equal(cluster.status?.phase, "Ready");
      assert.equal(cluster.status.readyReplicas, 3);
      assert.equal(cluster.status.replicas ?? 3, 3);
    }, 20_000);
  });

  await t.step("deleting the cluster is handled", async () => {
    await cp.kube.request("DELETE", `${CLUSTERS}/${name}`);
    await eventually("delete event answered", async () => {
      const handled = (await fn.logLines()).find((line) =>
        line.message === "event handled" &&
        line.type === "dev.knative.apiserver.resource.delete" &&
        line.key === `${NS}/${name}`
      );
      assert.ok(handled, "the delete event reached the function");
      assert.equal(handled.outcome, "absent");
    }, 20_000);
  });

  await t.step("every event was answered without an error", async () => {
    const lines = await fn.logLines();
    const errors = lines.filter((l) => l.level === "error");
    assert.deepEqual(errors, []);
    const handled = lines.filter((l) => l.message === "event handled");
    assert.ok(handled.length >= 5, `${handled.length} events handled`);
    for (const adapter of adapters) {
      assert.doesNotMatch(
        await Deno.readTextFile(adapter.process.spec.logPath),
        /failed to send/,
      );
    }
  });
  for (const adapter of adapters) await adapter.stop();
  await receiver.close();
});
