import assert from "node:assert/strict";
import { startAdapter } from "../harness/adapter.ts";
import { applyObjects } from "../harness/apply.ts";
import { startControlPlane } from "../harness/control_plane.ts";
import { installCrds } from "../harness/crds.ts";
import { eventually } from "../harness/wait.ts";

/** One request the sink received. */
interface Delivery {
  headers: Record<string, string>;
  body: Record<string, unknown>;
  status: number;
}

/** A CloudEvents sink that records every request and answers by object name. */
function startSink() {
  const deliveries: Delivery[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const headers = Object.fromEntries(request.headers);
      const body = await request.json();
      const name = headers["ce-name"] ?? "";
      const status = name.startsWith("fail-500")
        ? 500
        : name.startsWith("fail-503")
        ? 503
        : 202;
      deliveries.push({ headers, body, status });
      return new Response(null, { status });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    deliveries,
    server,
    forName: (name: string) =>
      deliveries.filter((d) => d.headers["ce-name"] === name),
  };
}

const WIDGET_CRD = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.test.example.com" },
  spec: {
    group: "test.example.com",
    scope: "Namespaced",
    names: {
      plural: "widgets",
      singular: "widget",
      kind: "Widget",
      listKind: "WidgetList",
    },
    versions: [{
      name: "v1",
      served: true,
      storage: true,
      schema: {
        openAPIV3Schema: {
          type: "object",
          properties: {
            spec: { type: "object", properties: { size: { type: "integer" } } },
          },
        },
      },
    }],
  },
};

function widget(name: string, size = 1) {
  return {
    apiVersion: "test.example.com/v1",
    kind: "Widget",
    metadata: { name, namespace: "events" },
    spec: { size },
  };
}

Deno.test("ApiServerSource adapter delivers real CloudEvents to a sink", async (t) => {
  await using cp = await startControlPlane();
  await installCrds(cp.kube, [WIDGET_CRD]);
  await applyObjects(cp.kube, [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "events" } },
    widget("pre-existing"),
  ]);
  const { url, deliveries, forName, server } = startSink();
  await using _sink = server;
  await using _adapter = await startAdapter(cp, {
    name: "widgets",
    namespace: "events",
    sink: url,
    sourceConfig: {
      namespaces: ["events"],
      allNamespaces: false,
      resources: [{
        gvr: { Group: "test.example.com", Version: "v1", Resource: "widgets" },
      }],
      mode: "Resource",
    },
  });

  await t.step(
    "an object created after start arrives as an add event",
    async () => {
      await applyObjects(cp.kube, [widget("hello", 3)]);
      const [event] = await eventually("add event for hello", () => {
        const found = forName("hello");
        assert.ok(found.length > 0);
        return found;
      });
      const h = event!.headers;
      assert.equal(h["ce-specversion"], "1.0");
      assert.equal(h["ce-type"], "dev.knative.apiserver.resource.add");
      assert.equal(h["ce-source"], cp.server);
      assert.equal(
        h["ce-subject"],
        "/apis/test.example.com/v1/namespaces/events/widgets/hello",
      );
      assert.equal(h["ce-kind"], "Widget");
      assert.equal(h["ce-name"], "hello");
      assert.equal(h["ce-namespace"], "events");
      assert.equal(h["ce-apiversion"], "test.example.com/v1");
      assert.match(h["ce-id"] ?? "", /^[0-9a-f-]{36}$/);
      assert.ok(
        !Number.isNaN(Date.parse(h["ce-time"] ?? "")),
        "ce-time is a timestamp",
      );
      assert.equal(h["content-type"], "application/json");
      assert.equal(h["kn-namespace"], "events");
      // Resource mode: the data is the whole object
      const metadata = event!.body.metadata as {
        name: string;
        resourceVersion: string;
      };
      assert.equal(metadata.name, "hello");
      assert.ok(metadata.resourceVersion);
      assert.deepEqual(event!.body.spec, { size: 3 });
    },
  );

  await t.step("a change arrives as an update event", async () => {
    await applyObjects(cp.kube, [widget("hello", 4)]);
    const update = await eventually("update event for hello", () => {
      const found = forName("hello").find((d) =>
        d.headers["ce-type"] === "dev.knative.apiserver.resource.update"
      );
      assert.ok(found);
      return found;
    });
    assert.deepEqual(update.body.spec, { size: 4 });
  });

  await t.step(
    "a sink answering 503 gets the event again; one answering 500 does not",
    async () => {
      // The adapter sends one event at a time, retries included, so once the
      // marker (created last) has arrived both failures are fully handled.
      await applyObjects(cp.kube, [
        widget("fail-500"),
        widget("fail-503"),
        widget("marker"),
      ]);
      await eventually(
        "marker event",
        () => assert.ok(forName("marker").length > 0),
        30_000,
      );
      const fiveHundred = forName("fail-500");
      const fiveOhThree = forName("fail-503");
      assert.equal(fiveHundred.length, 1, "500 is not retried");
      assert.ok(
        fiveOhThree.length > 1,
        `503 is retried (got ${fiveOhThree.length})`,
      );
      const ids = new Set(fiveOhThree.map((d) => d.headers["ce-id"]));
      assert.equal(ids.size, 1, "a retry is the same event (same ce-id)");
      const order = deliveries.map((d) => d.headers["ce-name"]);
      assert.ok(
        order.lastIndexOf("fail-503") < order.indexOf("marker"),
        "delivered one at a time",
      );
    },
  );

  await t.step("a deletion arrives as a delete event", async () => {
    await cp.kube.request(
      "DELETE",
      "/apis/test.example.com/v1/namespaces/events/widgets/hello",
    );
    await eventually("delete event for hello", () =>
      assert.ok(
        forName("hello").some((d) =>
          d.headers["ce-type"] === "dev.knative.apiserver.resource.delete"
        ),
      ));
  });

  await t.step(
    "objects that existed before the adapter started produce no event",
    () => {
      assert.deepEqual(forName("pre-existing"), []);
    },
  );
});
