import assert from "node:assert/strict";
import { CloudEvent, HTTP } from "cloudevents";
import { controllerReference } from "../core/labels.ts";
import { clusterFixture } from "../core/test_fixtures.ts";
import { BadEventError, decodeEvent } from "./cloud_events.ts";

const CLUSTER = {
  apiVersion: "database.example.com/v1",
  kind: "MySQLCluster",
  metadata: { name: "db", namespace: "shop", resourceVersion: "7" },
};
const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/** The request the `cloudevents` package builds for `event` in `mode`. */
function request(
  event: CloudEvent<unknown>,
  mode: "binary" | "structured",
): { headers: Headers; body: string } {
  const message = mode === "binary"
    ? HTTP.binary(event)
    : HTTP.structured(event);
  return {
    headers: new Headers(message.headers as Record<string, string>),
    body: message.body as string,
  };
}

for (const mode of ["binary", "structured"] as const) {
  Deno.test(`decodeEvent reads what the cloudevents package encodes (${mode})`, () => {
    const event = new CloudEvent({
      id: "e-1",
      type: "dev.knative.apiserver.resource.update",
      source: "https://127.0.0.1:6443",
      subject: "/apis/database.example.com/v1/namespaces/shop/mysqlclusters/db",
      datacontenttype: "application/json",
      data: CLUSTER,
      traceparent: TRACEPARENT,
      kind: "MySQLCluster",
    });
    const { headers, body } = request(event, mode);
    assert.deepEqual(decodeEvent(headers, body), {
      info: {
        id: "e-1",
        type: "dev.knative.apiserver.resource.update",
        source: "https://127.0.0.1:6443",
        subject:
          "/apis/database.example.com/v1/namespaces/shop/mysqlclusters/db",
        traceparent: TRACEPARENT,
      },
      work: {
        kind: "reconcile",
        namespace: "shop",
        name: "db",
        via: "MySQLCluster shop/db",
        object: { key: "MySQLCluster/db", resourceVersion: "7", fresh: true },
      },
    });
  });
}

Deno.test("decodeEvent marks what a delete carried: never fresh, known as deleted", () => {
  const work = (type: string, data: unknown) => {
    const { headers, body } = request(
      new CloudEvent({
        type,
        source: "https://127.0.0.1:6443",
        datacontenttype: "application/json",
        data,
      }),
      "binary",
    );
    const decoded = decodeEvent(headers, body).work;
    return decoded.kind === "reconcile" || decoded.kind === "find-owner"
      ? (decoded as { object?: unknown }).object
      : decoded;
  };
  assert.deepEqual(work("dev.knative.apiserver.resource.delete", CLUSTER), {
    key: "MySQLCluster/db",
    resourceVersion: "7",
    deleted: true,
  });
  const statefulSet = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: {
      name: "db",
      namespace: "shop",
      resourceVersion: "9",
      ownerReferences: [controllerReference(clusterFixture())],
    },
  };
  assert.deepEqual(
    work("dev.knative.apiserver.resource.delete", statefulSet),
    { key: "StatefulSet/db", resourceVersion: "9", deleted: true },
  );
  assert.deepEqual(
    work("dev.knative.apiserver.resource.update", statefulSet),
    { key: "StatefulSet/db", resourceVersion: "9" },
  );
});

Deno.test("decodeEvent reads a PingSource's resync and a base64 structured event", () => {
  for (
    const [source, reason, scope] of [
      ["mysql-resync", "resync", "all"],
      ["mysql-pending", "pending", "pending"],
    ]
  ) {
    const ping = request(
      new CloudEvent({
        type: "dev.knative.sources.ping",
        source: `/apis/v1/namespaces/mysql-operator/pingsources/${source}`,
        data: { reason },
      }),
      "binary",
    );
    assert.deepEqual(decodeEvent(ping.headers, ping.body).work, {
      kind: "resync",
      scope,
    });
  }
  const structured = JSON.stringify({
    specversion: "1.0",
    id: "2",
    source: "s",
    type: "dev.knative.apiserver.ref.update",
    datacontenttype: "application/json",
    data_base64: btoa(JSON.stringify({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      namespace: "shop",
      name: "db",
    })),
  });
  assert.deepEqual(
    decodeEvent(
      new Headers({ "content-type": "application/cloudevents+json" }),
      structured,
    ).work,
    {
      kind: "find-owner",
      child: {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        namespace: "shop",
        name: "db",
      },
    },
  );
});

Deno.test("decodeEvent refuses what breaks the CloudEvents 1.0 contract", () => {
  const binary = (headers: Record<string, string>) =>
    new Headers({
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": "1",
      "ce-source": "s",
      "ce-type": "dev.knative.sources.ping",
      ...headers,
    });
  const cases: [Headers, string, RegExp][] = [
    [binary({ "ce-specversion": "0.3" }), "{}", /specversion is "0.3"/],
    [binary({ "ce-specversion": "9.9" }), "{}", /specversion is "9.9"/],
    [
      new Headers({ "content-type": "application/json", "ce-id": "1" }),
      "{}",
      /specversion is null/,
    ],
    [binary({ "ce-source": "" }), "{}", /source is missing/],
    [binary({ "ce-id": "" }), "{}", /id is missing/],
    [
      new Headers({ "content-type": "application/cloudevents+json" }),
      JSON.stringify({ specversion: "1.0", id: "1", type: "t" }),
      /structured event's source is missing/,
    ],
    [
      new Headers({ "content-type": "application/cloudevents+json" }),
      "[1]",
      /not a JSON object/,
    ],
    [
      new Headers({ "content-type": "application/cloudevents-batch+json" }),
      "[]",
      /batched CloudEvents are not supported/,
    ],
    [binary({}), "{not json", /not valid JSON/],
  ];
  for (const [headers, body, message] of cases) {
    assert.throws(
      () => decodeEvent(headers, body),
      (error: Error) =>
        error instanceof BadEventError && message.test(error.message),
      String(message),
    );
  }
});
