/**
 * Spans as a compact tree on the console, for the dev loop
 * (`OTEL_TRACES_EXPORTER=console`): when a request's root span ends, one
 * block says what was reconciled, how it ended and how long it took, which
 * children changed, and the API calls under it.
 *
 * @module
 */

import type * as otel from "@opentelemetry/api";
import type * as sdk from "@opentelemetry/sdk-trace-base";

/** The SDK's span processor interface. */
export type SpanProcessor = sdk.SpanProcessor;
/** A finished span as the SDK hands it to processors. */
export type ReadableSpan = sdk.ReadableSpan;
/** A span as the SDK hands it to processors when it starts. */
export type SdkSpan = sdk.Span;
/** An OpenTelemetry context. */
export type Context = otel.Context;

/** What the tree needs of a span (a subset of `ReadableSpan`). */
export interface TreeSpan {
  /** Span name. */
  name: string;
  /** Its id. */
  spanId: string;
  /** Its parent's id, if any. */
  parentSpanId?: string;
  /** How long it took. */
  durationMs: number;
  /** Its attributes. */
  attributes: Record<string, unknown>;
  /** Its events, in order. */
  events: { name: string; attributes?: Record<string, unknown> }[];
  /** Whether its status is ERROR. */
  error: boolean;
}

const CHANGED = new Set(["created", "applied", "deleted", "expanded"]);

function ms(value: number): string {
  return value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(1)} ms`;
}

function headline(span: TreeSpan): string {
  const a = span.attributes;
  const what = a["mysql.name"]
    ? `${span.name} ${a["mysql.namespace"]}/${a["mysql.name"]}`
    : span.name;
  const parts = [
    what,
    a["http.response.status_code"] !== undefined
      ? String(a["http.response.status_code"])
      : undefined,
    ms(span.durationMs),
    a["mysql.outcome"] ? `${a["mysql.outcome"]}` : undefined,
    a["mysql.phase"] ? `phase ${a["mysql.phase"]}` : undefined,
    a["cloudevents.event_type"]
      ? `← ${String(a["cloudevents.event_type"]).replace("dev.knative.", "")}${
        a["mysql.via"] && !String(a["mysql.via"]).startsWith("MySQLCluster ")
          ? ` of ${a["mysql.via"]}`
          : ""
      }`
      : undefined,
    span.error ? "ERROR" : undefined,
  ];
  return parts.filter((p) => p !== undefined).join("  ");
}

function changes(span: TreeSpan): string | undefined {
  const changed = span.events
    .filter((e) => CHANGED.has(String(e.attributes?.["mysql.action"])))
    .map((e) =>
      `${e.attributes?.["mysql.action"]} ${e.attributes?.["k8s.kind"]} ${
        e.attributes?.["k8s.name"]
      }`
    );
  if (span.events.some((e) => e.name === "status written")) {
    changed.push("status written");
  }
  if (changed.length > 0) return `changed: ${changed.join(", ")}`;
  return span.events.some((e) => e.name === "status unchanged")
    ? "changed: nothing"
    : undefined;
}

/** Renders the spans of one trace, rooted at `root`, as indented lines. */
export function formatSpanTree(root: TreeSpan, spans: TreeSpan[]): string {
  const lines: string[] = [];
  const walk = (
    span: TreeSpan,
    prefix: string,
    last: boolean,
    top: boolean,
  ) => {
    const branch = top ? "" : last ? "└─ " : "├─ ";
    lines.push(
      `${prefix}${branch}${
        top
          ? headline(span)
          : `${span.name}  ${
            span.attributes["http.response.status_code"] ?? ""
          }  ${ms(span.durationMs)}${span.error ? "  ERROR" : ""}`
      }`,
    );
    const inner = top ? "" : prefix + (last ? "   " : "│  ");
    const change = changes(span);
    const children = spans.filter((s) => s.parentSpanId === span.spanId);
    if (change && !top) lines.push(`${inner}   ${change}`);
    if (change && top) lines.push(`  ${change}`);
    children.forEach((child, i) =>
      walk(child, top ? "  " : inner, i === children.length - 1, false)
    );
  };
  walk(root, "", true, true);
  return lines.join("\n");
}

function toTreeSpan(span: ReadableSpan): TreeSpan {
  const [seconds, nanos] = span.duration;
  const tree: TreeSpan = {
    name: span.name,
    spanId: span.spanContext().spanId,
    durationMs: seconds * 1000 + nanos / 1e6,
    attributes: span.attributes,
    events: span.events,
    error: span.status.code === 2,
  };
  if (span.parentSpanContext && !span.parentSpanContext.isRemote) {
    tree.parentSpanId = span.parentSpanContext.spanId;
  }
  return tree;
}

/** A span processor printing each finished request as a tree. */
export class SpanTreePrinter implements SpanProcessor {
  readonly #pending = new Map<string, TreeSpan[]>();
  readonly #write: (text: string) => void;

  /** Prints with `write` (default `console.log`). */
  constructor(write: (text: string) => void = (text) => console.log(text)) {
    this.#write = write;
  }

  /** Nothing to do when a span starts. */
  onStart(_span: SdkSpan, _context: Context): void {}

  /** Collects the span; prints the tree when a local root ends. */
  onEnd(span: ReadableSpan): void {
    const traceId = span.spanContext().traceId;
    const tree = toTreeSpan(span);
    const spans = this.#pending.get(traceId) ?? [];
    spans.push(tree);
    if (tree.parentSpanId !== undefined) {
      this.#pending.set(traceId, spans);
      return;
    }
    this.#pending.delete(traceId);
    this.#write(formatSpanTree(tree, spans));
  }

  /** Nothing is buffered past a request. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Drops what is pending. */
  shutdown(): Promise<void> {
    this.#pending.clear();
    return Promise.resolve();
  }
}
