/**
 * An OTLP/HTTP traces receiver for tests and benchmarks: it decodes what
 * `@opentelemetry/exporter-trace-otlp-http` really sends (OTLP JSON,
 * optionally gzip) into flat spans, keeps the raw bodies (to search them
 * for leaks), refuses what it cannot decode with 415/400 and remembers the
 * refusal. Mode `hang` accepts requests and never answers, like a stuck
 * collector.
 *
 * @module
 */

/** An attribute value as decoded from OTLP JSON. */
export type AttributeValue =
  | string
  | number
  | boolean
  | AttributeValue[]
  | undefined;

/** One span, flattened with its resource's attributes. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, AttributeValue>;
  events: { name: string; attributes: Record<string, AttributeValue> }[];
  status: { code: number; message?: string };
  resource: Record<string, AttributeValue>;
  scope: string;
}

interface OtlpValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
}

interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}

function decodeValue(value: OtlpValue): AttributeValue {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(decodeValue);
  return undefined;
}

/** Decodes an OTLP attribute list into a record. */
export function decodeAttributes(
  list: OtlpKeyValue[] | undefined,
): Record<string, AttributeValue> {
  return Object.fromEntries(
    (list ?? []).map((kv) => [kv.key, decodeValue(kv.value)]),
  );
}

/** Decodes an OTLP JSON `ExportTraceServiceRequest` into flat spans. */
export function decodeTraces(body: unknown): ReceivedSpan[] {
  // deno-lint-ignore no-explicit-any
  const request = body as any;
  if (!Array.isArray(request?.resourceSpans)) {
    throw new Error("not an ExportTraceServiceRequest: no resourceSpans");
  }
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans) {
    const resource = decodeAttributes(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        const flat: ReceivedSpan = {
          traceId: span.traceId,
          spanId: span.spanId,
          name: span.name,
          kind: span.kind,
          attributes: decodeAttributes(span.attributes),
          // deno-lint-ignore no-explicit-any
          events: (span.events ?? []).map((e: any) => ({
            name: e.name,
            attributes: decodeAttributes(e.attributes),
          })),
          status: span.status ?? { code: 0 },
          resource,
          scope: scopeSpans.scope?.name ?? "",
        };
        if (span.parentSpanId) flat.parentSpanId = span.parentSpanId;
        spans.push(flat);
      }
    }
  }
  return spans;
}

/** A running receiver. */
export interface OtlpReceiver {
  /** Base endpoint, for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  endpoint: string;
  /** Every span received so far. */
  spans: ReceivedSpan[];
  /** Every raw request body received so far (decompressed). */
  bodies: string[];
  /** Requests refused (wrong content type, undecodable), with why. */
  refused: string[];
  /** The headers of every export received (lower-case names). */
  headers: Record<string, string>[];
  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[];
  /** Stops listening; hung requests are released. */
  close(): Promise<void>;
}

/** Starts a receiver on a free loopback port. */
export function startOtlpReceiver(
  options: { mode?: "ok" | "hang" } = {},
): OtlpReceiver {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const refused: string[] = [];
  const headers: Record<string, string>[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      if (options.mode === "hang") {
        await released;
        return new Response("gone", { status: 503 });
      }
      const { pathname } = new URL(request.url);
      if (request.method !== "POST" || pathname !== "/v1/traces") {
        refused.push(`${request.method} ${pathname}`);
        return new Response("not found", { status: 404 });
      }
      headers.push(Object.fromEntries(request.headers));
      const type = request.headers.get("content-type") ?? "";
      if (!type.startsWith("application/json")) {
        refused.push(`content-type ${type}`);
        return new Response("only OTLP JSON here", { status: 415 });
      }
      let stream = request.body!;
      if (request.headers.get("content-encoding") === "gzip") {
        stream = stream.pipeThrough(new DecompressionStream("gzip"));
      }
      const text = await new Response(stream).text();
      bodies.push(text);
      try {
        spans.push(...decodeTraces(JSON.parse(text)));
      } catch (error) {
        refused.push(String(error));
        return new Response(String(error), { status: 400 });
      }
      return Response.json({ partialSuccess: {} });
    },
  );
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    spans,
    bodies,
    refused,
    headers,
    trace: (traceId) => spans.filter((s) => s.traceId === traceId),
    close: async () => {
      release();
      await server.shutdown();
    },
  };
}
