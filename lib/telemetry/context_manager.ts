/**
 * The active OpenTelemetry context, carried across `await` by
 * `AsyncLocalStorage`.
 *
 * What `@opentelemetry/context-async-hooks` does for functions, without its
 * CommonJS build: that build `require`s `node:events` and
 * `node:async_hooks`, so the bundle had to load Node's module loader at
 * every start (~25 ms of a cold start, measured on the image path). Event
 * emitters are not bound (nothing here passes one through a context).
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import type * as otel from "@opentelemetry/api";
import { ROOT_CONTEXT } from "@opentelemetry/api";

/** OpenTelemetry's context: immutable keys and values. */
export type Context = otel.Context;
/** What OpenTelemetry asks of whoever tracks the active context. */
export type ContextManager = otel.ContextManager;

/** A `ContextManager` on one `AsyncLocalStorage`. */
export class AsyncContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>();

  /** The context of the running code (the root context outside any `with`). */
  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT;
  }

  /** Runs `fn` with `context` active, for it and everything it awaits. */
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const run = thisArg === undefined ? fn : fn.bind(thisArg);
    return this.#storage.run(context, run as never, ...args) as ReturnType<F>;
  }

  /** `target` (a function) run with `context` whenever it is called; other values as they are. */
  bind<T>(context: Context, target: T): T {
    if (typeof target !== "function") return target;
    const storage = this.#storage;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    return function (this: unknown, ...args: unknown[]) {
      return storage.run(context, () => fn.apply(this, args));
    } as unknown as T;
  }

  /** Nothing to set up. */
  enable(): this {
    return this;
  }

  /** Forgets the active context. */
  disable(): this {
    this.#storage.disable();
    return this;
  }
}
