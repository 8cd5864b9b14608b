import assert from "node:assert/strict";
import { type CloudEvent, HTTP } from "cloudevents";
import { SERVICE_VERSION } from "../../lib/telemetry/config.ts";
import { startOperatorBed } from "../harness/operator_bed.ts";
import { clusterUpdateEvent, postEvent } from "../harness/events.ts";
import {
  type FunctionProcess,
  startFunction,
} from "../harness/function_process.ts";
import {
  type ReceivedSpan,
  startOtlpReceiver,
} from "../harness/otlp_receiver.ts";
import { freePort } from "../harness/process.ts";
import { eventually } from "../harness/wait.ts";

const NS = "tele";
// deno-lint-ignore no-explicit-any
type Any = any;

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

function hex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

const clusterEvent = (
  source: string,
  name: string,
  extensions: Record<string, string> = {},
) => clusterUpdateEvent(source, NS, name, extensions);

async function send(
  fn: FunctionProcess,
  event: CloudEvent<unknown>,
  mode: "binary" | "structured" = "binary",
): Promise<{ status: number; body: Any; timing: string; ms: number }> {
  const started = performance.now();
  const response = await postEvent(fn.url, event, mode);
  const body = await response.json();
  return {
    status: response.status,
    body,
    timing: response.headers.get("server-timing") ?? "",
    ms: performance.now() - started,
  };
}

function serverSpan(spans: ReceivedSpan[]): ReceivedSpan {
  const servers = spans.filter((s) => s.kind === SERVER);
  assert.equal(servers.length, 1, JSON.stringify(spans.map((s) => s.name)));
  return servers[0]!;
}

Deno.test("telemetry of the function, exported to a real OTLP receiver", async (t) => {
  await using cp = await startOperatorBed(NS, ["db"]);
  const receiver = startOtlpReceiver();
  await using fn = await startFunction(cp, {
    name: "traced",
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      // a hosted collector's credentials: sent with each export, never logged
      OTEL_EXPORTER_OTLP_HEADERS:
        "authorization=Bearer%20collector-token-4f2a,x-tenant=shop",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-tenant=traces",
      K_SERVICE: "mysql-operator",
      K_REVISION: "mysql-operator-00001",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test",
      LOG_LEVEL: "debug",
    },
  });
  const parentTrace = hex(16);
  const parentSpan = hex(8);
  let first!: Awaited<ReturnType<typeof send>>;

  await t.step(
    "a binary-mode event's trace continues, and its spans arrived before the response",
    async () => {
      const event = clusterEvent(cp.server, "db", {
        traceparent: `00-${parentTrace}-${parentSpan}-01`,
      });
      first = await send(fn, event);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.traceId, parentTrace);
      assert.equal(first.body.key, `${NS}/db`);
      assert.equal(first.body.outcome, "reconciled");
      // read right after the response: no waiting, no polling
      const spans = receiver.trace(parentTrace);
      const server = serverSpan(spans);
      assert.equal(server.parentSpanId, parentSpan);
      assert.equal(server.name, "reconcile");
      assert.match(first.timing, /flush;dur=[\d.]+;desc="done"/);
      const attributes = server.attributes;
      assert.equal(attributes["cloudevents.event_id"], event.id);
      assert.equal(
        attributes["cloudevents.event_type"],
        "dev.knative.apiserver.resource.update",
      );
      assert.equal(attributes["cloudevents.event_source"], cp.server);
      assert.equal(attributes["cloudevents.event_subject"], event.subject);
      assert.equal(attributes["faas.trigger"], "pubsub");
      assert.equal(attributes["faas.coldstart"], true);
      assert.equal(attributes["k8s.namespace.name"], NS);
      assert.equal(attributes["mysql.name"], "db");
      assert.equal(attributes["mysql.namespace"], NS);
      assert.equal(attributes["mysql.replicas"], 3);
      assert.equal(attributes["http.response.status_code"], 200);
      const events = server.events.map((e) => e.name);
      for (
        const name of [
          "ensured Secret",
          "ensured Service",
          "ensured StatefulSet",
          "ensured PodDisruptionBudget",
          "status written",
        ]
      ) {
        assert.ok(events.includes(name), `${name} in ${events}`);
      }
      assert.deepEqual(
        server.events.find((e) => e.name === "ensured StatefulSet")?.attributes,
        {
          "k8s.kind": "StatefulSet",
          "k8s.name": "db",
          "mysql.action": "applied",
        },
      );
      // the plan, with why each write is made
      assert.ok(
        (server.events.find((e) => e.name === "plan")
          ?.attributes["mysql.plan"] as string[])
          .includes("apply StatefulSet db: absent"),
      );
      assert.deepEqual(server.resource, {
        ...server.resource,
        "service.name": "mysql-operator",
        "service.version": SERVICE_VERSION,
        "faas.name": "mysql-operator",
        "faas.version": "mysql-operator-00001",
        "deployment.environment.name": "test",
      });
    },
  );

  await t.step(
    "every API call is a client span under the server span",
    () => {
      const spans = receiver.trace(parentTrace);
      const server = serverSpan(spans);
      const clients = spans.filter((s) => s.kind === CLIENT);
      assert.ok(clients.length >= 10, `${clients.length} client spans`);
      for (const span of clients) {
        assert.equal(span.parentSpanId, server.spanId, span.name);
        assert.equal(
          span.name,
          `${span.attributes["http.request.method"]} ${
            span.attributes["url.template"]
          }`,
        );
        assert.equal(
          typeof span.attributes["http.response.status_code"],
          "number",
        );
      }
      const names = clients.map((s) => s.name);
      assert.ok(
        names.includes(
          "GET /apis/database.example.com/v1/namespaces/{namespace}/mysqlclusters/{name}",
        ),
        names.join("\n"),
      );
      assert.ok(
        names.includes(
          "PATCH /apis/database.example.com/v1/namespaces/{namespace}/mysqlclusters/{name}/status",
        ),
      );
      // expected 404s (objects not there yet) are not errors
      const absent = clients.filter((s) =>
        s.attributes["http.response.status_code"] === 404
      );
      assert.ok(absent.length > 0);
      for (const span of absent) assert.notEqual(span.status.code, ERROR);
    },
  );

  await t.step(
    "a structured-mode event's trace continues; the cold start is over",
    async () => {
      const traceId = hex(16);
      const spanId = hex(8);
      const response = await send(
        fn,
        clusterEvent(cp.server, "db", {
          traceparent: `00-${traceId}-${spanId}-01`,
        }),
        "structured",
      );
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.outcome, "unchanged");
      const server = serverSpan(receiver.trace(traceId));
      assert.equal(server.parentSpanId, spanId);
      assert.equal(server.attributes["faas.coldstart"], false);
      assert.ok(server.events.some((e) => e.name === "status unchanged"));
      assert.ok(
        server.events.some((e) =>
          e.name === "ensured StatefulSet" &&
          e.attributes["mysql.action"] === "unchanged"
        ),
      );
    },
  );

  await t.step(
    "kubectl describe leads to the trace that wrote the status",
    async () => {
      const cluster = await cp.kube.request<Any>(
        "GET",
        `/apis/database.example.com/v1/namespaces/${NS}/mysqlclusters/db`,
      );
      assert.equal(cluster.status.traceId, parentTrace);
      const events = await cp.kube.request<Any>(
        "GET",
        `/api/v1/namespaces/${NS}/events`,
      );
      const created = events.items.find((e: Any) => e.reason === "Created");
      assert.match(created.message, new RegExp(`\\(trace ${parentTrace}\\)$`));
      const describe = await cp.kubectl([
        "describe",
        "mysqlcluster",
        "db",
        "-n",
        NS,
      ]);
      assert.equal(describe.code, 0, describe.stderr);
      assert.match(
        describe.stdout,
        new RegExp(`Trace Id:\\s+${parentTrace}`),
      );
    },
  );

  await t.step("a new trace starts when the event has none", async () => {
    const response = await send(fn, clusterEvent(cp.server, "db"));
    assert.equal(response.status, 200);
    assert.match(response.body.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(response.body.traceId, parentTrace);
    const server = serverSpan(receiver.trace(response.body.traceId));
    assert.equal(server.parentSpanId, undefined);
  });

  await t.step(
    "a malformed event is 400, and its span was flushed too",
    async () => {
      const response = await fetch(fn.url, {
        method: "POST",
        headers: {
          "ce-specversion": "1.0",
          "ce-type": "dev.knative.apiserver.resource.update",
          "content-type": "application/json",
        },
        body: "{}",
      });
      const body = await response.json();
      assert.equal(response.status, 400);
      assert.match(body.error, /ce-id|id/);
      const server = serverSpan(receiver.trace(body.traceId));
      assert.equal(server.name, "reject");
      assert.equal(server.attributes["http.response.status_code"], 400);
    },
  );

  await t.step("logs carry the trace and span ids and the key", async () => {
    const lines = await fn.logLines();
    const handled = lines.find((l) =>
      l.message === "event handled" && l.trace_id === parentTrace
    );
    assert.ok(handled, "an 'event handled' line with the trace id");
    assert.equal(handled.key, `${NS}/db`);
    const server = serverSpan(receiver.trace(parentTrace));
    assert.equal(handled.span_id, server.spanId);
    for (const line of lines) {
      assert.ok(typeof line.level === "string", JSON.stringify(line));
    }
  });

  await t.step(
    "API unreachable: 503, with the failed call recorded and flushed",
    async () => {
      const closedPort = freePort();
      const kubeconfig = `${cp.dir}/kubeconfig-unreachable`;
      const admin = await Deno.readTextFile(cp.kubeconfigPath);
      await Deno.writeTextFile(
        kubeconfig,
        admin.replace(cp.server, `https://127.0.0.1:${closedPort}`),
      );
      await using broken = await startFunction(cp, {
        name: "unreachable",
        kubeconfig,
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint },
      });
      const response = await send(broken, clusterEvent(cp.server, "db"));
      assert.equal(response.status, 503, JSON.stringify(response.body));
      const spans = receiver.trace(response.body.traceId);
      const server = serverSpan(spans);
      assert.equal(server.status.code, ERROR);
      assert.equal(server.attributes["http.response.status_code"], 503);
      const call = spans.find((s) => s.kind === CLIENT);
      assert.ok(call, "the failed GET has a span");
      assert.equal(call.status.code, ERROR);
      assert.equal(call.attributes["error.type"], "unreachable");
      assert.ok(call.events.some((e) => e.name === "exception"));
      const failed = (await broken.logLines()).find((l) =>
        l.message === "event failed"
      );
      assert.ok(failed, "the failure is logged");
      assert.equal(failed.key, `${NS}/db`);
      assert.equal(failed.trace_id, response.body.traceId);
      assert.equal(failed.level, "error");
    },
  );

  await t.step(
    "a stuck or absent collector never fails a reconcile and delays it by at most the flush timeout",
    async () => {
      const stuck = startOtlpReceiver({ mode: "hang" });
      await using fn2 = await startFunction(cp, {
        name: "stuck-collector",
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: stuck.endpoint,
          OTEL_FLUSH_TIMEOUT_MS: "300",
          // unbounded, a flush would wait for this
          OTEL_EXPORTER_OTLP_TIMEOUT: "30000",
        },
      });
      const hung = await send(fn2, clusterEvent(cp.server, "db"));
      assert.equal(hung.status, 200, JSON.stringify(hung.body));
      assert.equal(hung.body.outcome, "unchanged");
      assert.match(hung.timing, /flush;dur=[\d.]+;desc="timeout"/);
      const flushMs = Number(/flush;dur=([\d.]+)/.exec(hung.timing)![1]);
      assert.ok(flushMs >= 290 && flushMs < 5_000, `flush took ${flushMs} ms`);
      // while it stays stuck, the next requests do not wait for it
      const next = await send(fn2, clusterEvent(cp.server, "db"));
      assert.equal(next.status, 200);
      assert.match(next.timing, /flush;dur=0.00;desc="skipped"/);
      await stuck.close();

      // nothing listens at the endpoint: the collector is down
      await using fn3 = await startFunction(cp, {
        name: "collector-down",
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${freePort()}`,
          OTEL_FLUSH_TIMEOUT_MS: "300",
          OTEL_EXPORTER_OTLP_TIMEOUT: "30000",
        },
      });
      const down = await send(fn3, clusterEvent(cp.server, "db"));
      assert.equal(down.status, 200, JSON.stringify(down.body));
      assert.equal(down.body.outcome, "unchanged");
      assert.match(down.timing, /desc="(failed|timeout)"/);
      const downMs = Number(/flush;dur=([\d.]+)/.exec(down.timing)![1]);
      assert.ok(downMs < 5_000, `flush took ${downMs} ms`);
      const warned = (await fn3.logLines()).find((l) =>
        l.message === "spans not exported before answering"
      );
      assert.ok(warned, "the function says its spans did not get out");
      assert.equal(warned.trace_id, down.body.traceId);
    },
  );

  await t.step(
    "the sampler and the SDK switch come from the environment",
    async () => {
      await using unsampled = await startFunction(cp, {
        name: "always-off",
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
          OTEL_TRACES_SAMPLER: "always_off",
        },
      });
      const quiet = await send(unsampled, clusterEvent(cp.server, "db"));
      assert.equal(quiet.status, 200);
      assert.match(
        quiet.body.traceId,
        /^[0-9a-f]{32}$/,
        "logs still correlate",
      );
      assert.deepEqual(receiver.trace(quiet.body.traceId), []);
      await using disabled = await startFunction(cp, {
        name: "sdk-disabled",
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
          OTEL_SDK_DISABLED: "true",
        },
      });
      const off = await send(disabled, clusterEvent(cp.server, "db"));
      assert.equal(off.status, 200);
      assert.equal(off.body.traceId, undefined);
      assert.match(off.timing, /desc="off"/);
    },
  );

  await t.step("no secret value appears in any span or log line", async () => {
    const secret = await cp.kube.request<Any>(
      "GET",
      `/api/v1/namespaces/${NS}/secrets/db-credentials`,
    );
    // the passwords (the user names beside them are not secret)
    const values = Object.entries(secret.data as Record<string, string>)
      .filter(([key]) => key.endsWith("-password")).map(([, value]) => value);
    assert.ok(values.length > 0);
    const logs = await fn.logs();
    for (const encoded of values) {
      const plain = atob(encoded);
      assert.ok(plain.length >= 16);
      for (const body of receiver.bodies) {
        assert.ok(!body.includes(plain), "a secret value in exported spans");
        assert.ok(!body.includes(encoded), "a secret value in exported spans");
      }
      assert.ok(!logs.includes(plain), "a secret value in the logs");
      assert.ok(!logs.includes(encoded), "a secret value in the logs");
    }
  });

  await t.step(
    "the collector's headers (OTEL_EXPORTER_OTLP_[TRACES_]HEADERS) go with its exports, nowhere else",
    async () => {
      const logs = await fn.logs();
      // the collector's credentials went with its exports (the first ones;
      // a function started later without them exports here too), nowhere else
      const ours = receiver.headers.filter((h) => h["x-tenant"] !== undefined);
      assert.ok(ours.length > 0 && ours[0] === receiver.headers[0]);
      for (const headers of ours) {
        assert.equal(headers.authorization, "Bearer collector-token-4f2a");
        assert.equal(headers["x-tenant"], "traces", "the traces' own wins");
      }
      assert.ok(
        !logs.includes("collector-token-4f2a"),
        "a credential in the logs",
      );
      for (const body of receiver.bodies) {
        assert.ok(
          !body.includes("collector-token-4f2a"),
          "a credential in spans",
        );
      }
      assert.deepEqual(receiver.refused, []);
    },
  );

  await t.step(
    "SIGTERM: stops accepting, finishes the request in flight, flushes, exits 0",
    async () => {
      const traceId = hex(16);
      const event = clusterEvent(cp.server, "db", {
        traceparent: `00-${traceId}-${hex(8)}-01`,
      });
      // a pause of the real apiserver keeps the reconcile in flight
      const apiserver = cp.processes.find((p) =>
        p.spec.name === "kube-apiserver"
      )!;
      Deno.kill(apiserver.pid, "SIGSTOP");
      let inFlight;
      try {
        const message = HTTP.binary(event);
        inFlight = fetch(fn.url, {
          method: "POST",
          headers: message.headers as Record<string, string>,
          body: message.body as string,
        });
        const received = async () =>
          (await fn.logLines()).filter((l) => l.message === "request received")
            .length;
        const before = await received();
        // the request is in the handler once it logged its arrival
        await eventually("request in flight", async () => {
          if (await received() <= before) throw new Error("not yet");
        });
        Deno.kill(fn.process.pid, "SIGTERM");
        await eventually("stopping logged", async () => {
          if (!(await fn.logs()).includes('"stopping: finishing')) {
            throw new Error("not yet");
          }
        });
        await assert.rejects(
          fetch(`${fn.url}readyz`),
          "a stopping function accepts no new connection",
        );
        assert.equal(fn.process.exitStatus, undefined, "still finishing");
      } finally {
        Deno.kill(apiserver.pid, "SIGCONT");
      }
      const response = await inFlight;
      const answer = await response.json();
      assert.equal(response.status, 200, JSON.stringify(answer));
      assert.equal(answer.traceId, traceId);
      const status = await fn.process.exited();
      assert.equal(status.code, 0);
      assert.equal(serverSpan(receiver.trace(traceId)).name, "reconcile");
      assert.match(await fn.logs(), /"message":"stopped"/);
    },
  );
  await receiver.close();
});
