/**
 * A relay between event senders (the real adapters) and the function, for
 * fault scenarios: it records every event it is sent and what each
 * function answered, and can drop events (answering 202, as a sink that
 * lost them would), slow every delivery down, deliver each event to every
 * function at once, or move to other functions mid-run. An event the relay
 * cannot deliver (no function listening) is answered 502, which the
 * adapter retries as it would a gone pod.
 *
 * @module
 */

/** What one function answered to one delivery. */
export interface Answer {
  target: string;
  /** HTTP status; 0: the connection failed. */
  status: number;
  ms: number;
  /** The answer's body; with status 0, the fetch error and its cause. */
  body: string;
}

/** One event as the relay received it. */
export interface RelayedEvent {
  /**
   * The headers that make the CloudEvent and what the sender adds to it:
   * ce-*, content-type, authorization, kn-namespace, traceparent.
   */
  headers: Record<string, string>;
  body: string;
  /** Dropped by the relay: never reached a function. */
  dropped: boolean;
  answers: Answer[];
}

/** How the relay treats the events it is sent. */
export interface RelayOptions {
  /** Function URLs; the first gets each event, or all with `fanOut`. */
  targets: string[];
  /** Deliver each event to every target at once; answer with the worst status. */
  fanOut?: boolean;
  /** Whether to drop the `n`th event (0-based); default: none. */
  drop?: (n: number, event: RelayedEvent) => boolean;
  /**
   * Wait this long before delivering each event (a slow sink), or as long
   * as the function says for the `n`th (e.g. one long stall).
   */
  delayMs?: number | ((n: number, event: RelayedEvent) => number);
}

const KEPT = /^(ce-|content-type$|authorization$|kn-namespace$|traceparent$)/i;

/** The headers of `request` that make the CloudEvent. */
function eventHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (KEPT.test(name)) kept[name] = value;
  });
  return kept;
}

/** POSTs a recorded event to `url` again; resolves to the answer. */
export async function redeliver(
  url: string,
  event: Pick<RelayedEvent, "headers" | "body">,
): Promise<Answer> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: event.headers,
      body: event.body,
    });
    const body = await response.text();
    return {
      target: url,
      status: response.status,
      ms: performance.now() - started,
      body,
    };
  } catch (error) {
    // Deno says only "fetch failed"; why (refused, closed mid-request…) is
    // in the cause
    const cause = (error as Error).cause;
    return {
      target: url,
      status: 0,
      ms: performance.now() - started,
      body: cause === undefined
        ? String(error)
        : `${error}: ${cause instanceof Error ? cause.message : String(cause)}`,
    };
  }
}

/** A running relay; `close` (or `await using`) stops it. */
export class EventRelay {
  /** `http://127.0.0.1:<port>/`: the adapters' sink. */
  readonly url: string;
  /** Every event received, in arrival order. */
  readonly events: RelayedEvent[] = [];
  /** Events being delivered (or held) right now. */
  inFlight = 0;
  #options: RelayOptions;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  constructor(options: RelayOptions) {
    this.#options = { ...options };
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (request) => {
        this.inFlight++;
        try {
          return await this.#handle(request);
        } finally {
          this.inFlight--;
        }
      },
    );
    this.url = `http://127.0.0.1:${this.#server.addr.port}/`;
  }

  /** Changes how events are treated from now on (e.g. other targets). */
  set(options: Partial<RelayOptions>): void {
    this.#options = { ...this.#options, ...options };
  }

  /** Every answer of every delivery of the events from the `from`th on. */
  answers(from = 0): Answer[] {
    return this.events.slice(from).flatMap((e) => e.answers);
  }

  async #handle(request: Request): Promise<Response> {
    const event: RelayedEvent = {
      headers: eventHeaders(request.headers),
      body: await request.text(),
      dropped: false,
      answers: [],
    };
    const n = this.events.length;
    this.events.push(event);
    const options = this.#options;
    if (options.drop?.(n, event)) {
      event.dropped = true;
      return new Response(null, { status: 202 });
    }
    const delayMs = typeof options.delayMs === "function"
      ? options.delayMs(n, event)
      : options.delayMs;
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const targets = options.fanOut ? options.targets : options.targets[0]
      ? [
        options.targets[0],
      ]
      : [];
    if (targets.length === 0) return new Response(null, { status: 502 });
    const answers = await Promise.all(
      targets.map((target) => redeliver(target, event)),
    );
    event.answers.push(...answers);
    const worst = answers.reduce((a, b) =>
      (a.status === 0 ? 999 : a.status) >= (b.status === 0 ? 999 : b.status)
        ? a
        : b
    );
    return new Response(worst.body, {
      status: worst.status === 0 ? 502 : worst.status,
      headers: { "content-type": "application/json" },
    });
  }

  /** Stops listening. */
  async close(): Promise<void> {
    await this.#server.shutdown();
  }

  /** Same as {@linkcode EventRelay.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A deterministic pseudo-random sequence in [0, 1) from `seed` (mulberry32):
 * a scenario's drops and shuffles are the same on every run.
 */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `items` in an order drawn from `random` (Fisher–Yates); a new array. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
