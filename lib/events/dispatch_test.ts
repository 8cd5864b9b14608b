import assert from "node:assert/strict";
import type { KubeObject } from "../core/objects.ts";
import type { Ref, Work } from "./cloud_events.ts";
import {
  createDispatcher,
  type DispatchOptions,
  ExpiredPageError,
} from "./dispatch.ts";

interface Result {
  key: string;
  writes: string[];
}

/** Pages of `names` (namespace shop), `limit` per page, as the API lists them. */
function pages(names: string[]): DispatchOptions<Result>["listClusterPage"] {
  return ({ limit, continueFrom }) => {
    const from = continueFrom ? Number(continueFrom) : 0;
    const items = names.slice(from, from + limit).map((name) => ({
      namespace: "shop",
      name,
    }));
    return Promise.resolve(
      from + limit < names.length
        ? { items, continueFrom: String(from + limit) }
        : { items },
    );
  };
}

/** A dispatcher over scripted passes and reads; records what ran. */
function scripted(overrides: Partial<DispatchOptions<Result>> = {}) {
  const log: string[] = [];
  let running = 0;
  let peak = 0;
  const options: DispatchOptions<Result> = {
    reconcile: async (namespace, name) => {
      const key = `${namespace}/${name}`;
      running++;
      peak = Math.max(peak, running);
      log.push(`start ${key}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      log.push(`end ${key}`);
      running--;
      return { key, writes: name.startsWith("new") ? ["status"] : [] };
    },
    readable: (ref) => ref.kind === "StatefulSet",
    readObject: (ref) =>
      Promise.resolve<KubeObject | undefined>(
        ref.name === "db"
          ? {
            metadata: {
              name: "db",
              ownerReferences: [{
                apiVersion: "database.example.com/v1",
                kind: "MySQLCluster",
                name: "db",
                uid: "u",
                controller: true,
              }],
            },
          }
          : ref.name === "orphan"
          ? { metadata: { name: "orphan" } }
          : undefined,
      ),
    listClusterPage: pages(["a", "b", "d", "new-c", "new-e"]),
    ...overrides,
  };
  return { dispatch: createDispatcher(options), log, peak: () => peak };
}

const reconcileWork = (name: string): Extract<Work, { kind: "reconcile" }> => ({
  kind: "reconcile",
  namespace: "shop",
  name,
  via: `MySQLCluster shop/${name}`,
});

const ref = (name: string, kind = "StatefulSet"): Ref => ({
  apiVersion: "apps/v1",
  kind,
  namespace: "shop",
  name,
});

Deno.test("dispatch runs one pass per cluster at a time, different clusters at once", async () => {
  const { dispatch, log, peak } = scripted();
  await Promise.all([
    dispatch(reconcileWork("db")),
    dispatch(reconcileWork("db")),
    dispatch(reconcileWork("other")),
  ]);
  assert.equal(peak(), 2);
  const db = log.filter((line) => line.endsWith("shop/db"));
  assert.deepEqual(db, [
    "start shop/db",
    "end shop/db",
    "start shop/db",
    "end shop/db",
  ]);
});

Deno.test("dispatch answers a reconcile with the pass's result and the way it came", async () => {
  const { dispatch } = scripted();
  assert.deepEqual(await dispatch(reconcileWork("db")), {
    ok: true,
    kind: "reconcile",
    key: "shop/db",
    answer: { key: "shop/db", writes: [], via: "MySQLCluster shop/db" },
  });
});

Deno.test("dispatch finds the owner of a child named by a Reference-mode event", async () => {
  const { dispatch } = scripted();
  const owned = await dispatch({ kind: "find-owner", child: ref("db") });
  assert.ok(owned.ok && owned.kind === "reconcile");
  assert.equal(owned.key, "shop/db");
  assert.equal(owned.answer.via, "StatefulSet shop/db");
  const orphan = await dispatch({ kind: "find-owner", child: ref("orphan") });
  assert.ok(orphan.ok && orphan.kind === "ignore");
  assert.match(
    String(orphan.answer.reason),
    /not controlled by a MySQLCluster/,
  );
  const gone = await dispatch({ kind: "find-owner", child: ref("gone") });
  assert.ok(gone.ok && gone.kind === "ignore");
});

Deno.test("dispatch never reads a kind it may not read", async () => {
  let read = false;
  const { dispatch } = scripted({
    readObject: () => {
      read = true;
      return Promise.resolve(undefined);
    },
  });
  const secret = await dispatch({
    kind: "find-owner",
    child: { ...ref("db-credentials", "Secret"), apiVersion: "v1" },
  });
  assert.ok(secret.ok && secret.kind === "ignore");
  assert.match(String(secret.answer.reason), /kind Secret is not one/);
  assert.equal(read, false);
});

Deno.test("dispatch resyncs every cluster, a bounded number at once", async () => {
  const { dispatch, peak } = scripted({ resyncConcurrency: 2 });
  const result = await dispatch({ kind: "resync", scope: "all" });
  assert.ok(result.ok && result.kind === "resync");
  assert.deepEqual(result.answer, {
    outcome: "resynced",
    scope: "all",
    total: 5,
    done: 5,
    changed: ["shop/new-c", "shop/new-e"],
    changedCount: 2,
    failed: [],
    failedCount: 0,
    skipped: 0,
  });
  assert.equal(peak(), 2);
});

Deno.test("dispatch stops starting resync passes once its budget is spent", async () => {
  let clock = 0;
  const { dispatch } = scripted({
    resyncConcurrency: 1,
    resyncBudgetMs: 10,
    now: () => clock,
    reconcile: (namespace, name) => {
      clock += 6;
      return Promise.resolve({ key: `${namespace}/${name}`, writes: [] });
    },
  });
  const first = await dispatch({ kind: "resync", scope: "all" });
  assert.ok(first.ok);
  assert.equal(first.answer.done, 2);
  assert.equal(first.answer.skipped, 3, "every cluster not visited is counted");
  assert.equal(first.answer.stopped, "budget");
  assert.equal(first.answer.resumeAfter, "shop/b");
  clock = 0;
  const second = await dispatch({ kind: "resync", scope: "all" });
  assert.ok(second.ok);
  assert.equal(second.answer.done, 2, "the next one starts after b");
  assert.equal(second.answer.resumeAfter, "shop/new-c");
  clock = 0;
  const third = await dispatch({ kind: "resync", scope: "all" });
  assert.ok(third.ok);
  assert.equal(third.answer.resumeAfter, "shop/a", "round past the end to a");
});

Deno.test("dispatch lists only clusters never reconciled for a pending resync", async () => {
  const asked: boolean[] = [];
  const list = pages(["new-c"]);
  const { dispatch } = scripted({
    listClusterPage: (page) => {
      asked.push(page.pendingOnly);
      return list(page);
    },
  });
  const result = await dispatch({ kind: "resync", scope: "pending" });
  assert.ok(result.ok);
  assert.deepEqual(asked, [true]);
  assert.equal(result.answer.scope, "pending");
  assert.deepEqual(result.answer.changed, ["shop/new-c"]);
});

Deno.test("dispatch reports a resync pass that failed and goes on", async () => {
  const { dispatch } = scripted({
    reconcile: (namespace, name) =>
      name === "b"
        ? Promise.reject(new Error("GET …/b: 500 InternalError"))
        : Promise.resolve({ key: `${namespace}/${name}`, writes: [] }),
  });
  const result = await dispatch({ kind: "resync", scope: "all" });
  assert.ok(result.ok);
  assert.equal(result.answer.done, 4);
  assert.deepEqual(result.answer.failed, [{
    key: "shop/b",
    error: "GET …/b: 500 InternalError",
  }]);
});

Deno.test("dispatch returns a failed pass with its cluster, not a throw", async () => {
  const failure = new Error("unreachable");
  const { dispatch } = scripted({
    reconcile: () => Promise.reject(failure),
  });
  assert.deepEqual(await dispatch(reconcileWork("db")), {
    ok: false,
    key: "shop/db",
    error: failure,
  });
  const listing = scripted({
    listClusterPage: () => Promise.reject(failure),
  });
  assert.deepEqual(await listing.dispatch({ kind: "resync", scope: "all" }), {
    ok: false,
    error: failure,
  });
});

Deno.test("dispatch ignores what an event says to ignore", async () => {
  const { dispatch, log } = scripted();
  const result = await dispatch({ kind: "ignore", reason: "deleted" });
  assert.deepEqual(result, {
    ok: true,
    kind: "ignore",
    answer: { outcome: "ignored", reason: "deleted" },
  });
  assert.deepEqual(log, []);
});

Deno.test("dispatch answers an echo of a cluster's last pass without a pass, and anything else with one", async () => {
  let passes = 0;
  const seen: unknown[] = [];
  const { dispatch } = scripted({
    reconcile: (namespace, name, object) => {
      passes++;
      seen.push(object);
      return Promise.resolve({
        key: `${namespace}/${name}`,
        writes: ["status"],
        versions: { "MySQLCluster/db": ["12"], "StatefulSet/db": ["9"] },
      });
    },
  });
  const event = (key: string, resourceVersion: string): Work => ({
    ...reconcileWork("db"),
    object: { key, resourceVersion },
  });
  await dispatch(event("MySQLCluster/db", "10"));
  assert.equal(passes, 1);
  // the echoes of its own writes: the status, the StatefulSet it applied
  for (
    const echo of [event("MySQLCluster/db", "12"), event("StatefulSet/db", "9")]
  ) {
    const answer = await dispatch(echo);
    assert.ok(answer.ok);
    assert.equal(answer.answer.outcome, "echo");
  }
  assert.equal(passes, 1, "no pass, so no API call, for an echo");
  // a newer version, an event without one (Reference mode), a delete of
  // what the last pass wrote: a pass
  await dispatch(event("StatefulSet/db", "10"));
  await dispatch(reconcileWork("db"));
  await dispatch({
    ...reconcileWork("db"),
    object: { key: "StatefulSet/db", resourceVersion: "9", deleted: true },
  });
  assert.equal(passes, 4);
  assert.deepEqual(seen, [
    { key: "MySQLCluster/db", resourceVersion: "10" },
    { key: "StatefulSet/db", resourceVersion: "10" },
    undefined,
    { key: "StatefulSet/db", resourceVersion: "9" },
  ], "each pass is given the object its event carried");
});

Deno.test("dispatch forgets a cluster whose pass failed: its next event is a pass", async () => {
  let fail = false;
  let passes = 0;
  const { dispatch } = scripted({
    reconcile: (namespace, name) => {
      passes++;
      return fail ? Promise.reject(new Error("boom")) : Promise.resolve({
        key: `${namespace}/${name}`,
        writes: [],
        versions: { "MySQLCluster/db": ["12"] },
      });
    },
  });
  const echo: Work = {
    ...reconcileWork("db"),
    object: { key: "MySQLCluster/db", resourceVersion: "12" },
  };
  await dispatch(reconcileWork("db"));
  fail = true;
  await dispatch(reconcileWork("db"));
  fail = false;
  await dispatch(echo);
  assert.equal(passes, 3, "not taken for an echo after a failure");
});

Deno.test("dispatch resyncs page by page, and answers with counts and a few keys", async () => {
  const names = Array.from(
    { length: 95 },
    (_, i) => `new-${String(i).padStart(3, "0")}`,
  );
  const requested: (string | undefined)[] = [];
  const list = pages(names);
  const { dispatch } = scripted({
    resyncPageSize: 10,
    resyncConcurrency: 8,
    reconcile: (namespace, name) =>
      Promise.resolve({ key: `${namespace}/${name}`, writes: ["status"] }),
    listClusterPage: (page) => {
      requested.push(page.continueFrom);
      return list(page);
    },
  });
  const result = await dispatch({ kind: "resync", scope: "all" });
  assert.ok(result.ok);
  assert.equal(requested.length, 10, "ten pages of ten");
  assert.equal(result.answer.done, 95);
  assert.equal(result.answer.changedCount, 95);
  assert.equal(
    (result.answer.changed as string[]).length,
    20,
    "a few keys, not all",
  );
});

Deno.test("dispatch resumes a resync that ran out of time where it stopped, then comes round", async () => {
  const visited: string[] = [];
  let clock = 0;
  let round = 1;
  const { dispatch } = scripted({
    resyncPageSize: 2,
    resyncConcurrency: 1,
    resyncBudgetMs: 10,
    now: () => clock,
    listClusterPage: pages(["a", "b", "c", "d", "e", "f"]),
    reconcile: (namespace, name) => {
      visited.push(name);
      // the first round runs out of time after its third pass
      if (round === 1 && visited.length === 3) clock += 60;
      return Promise.resolve({ key: `${namespace}/${name}`, writes: [] });
    },
  });
  const first = await dispatch({ kind: "resync", scope: "all" });
  assert.ok(first.ok);
  assert.equal(first.answer.stopped, "budget");
  assert.equal(first.answer.resumeAfter, "shop/c");
  assert.deepEqual(visited, ["a", "b", "c"]);
  round = 2;
  visited.length = 0;
  const second = await dispatch({ kind: "resync", scope: "all" });
  assert.ok(second.ok);
  assert.equal(second.answer.stopped, undefined);
  assert.deepEqual(
    visited,
    ["d", "e", "f", "a", "b", "c"],
    "after c, round to c",
  );
});

Deno.test("dispatch stops a resync between passes when its request is abandoned", async () => {
  const abort = new AbortController();
  let passes = 0;
  const { dispatch } = scripted({
    resyncConcurrency: 1,
    reconcile: (namespace, name) => {
      if (++passes === 2) abort.abort();
      return Promise.resolve({ key: `${namespace}/${name}`, writes: [] });
    },
  });
  const result = await dispatch(
    { kind: "resync", scope: "all" },
    () => abort.signal,
  );
  assert.ok(result.ok);
  assert.equal(result.answer.stopped, "aborted");
  assert.equal(passes, 2);
});

Deno.test("dispatch lists again past what it did when a page's token expired", async () => {
  const names = ["a", "b", "c", "d", "e"];
  const list = pages(names);
  let expired = false;
  const visited: string[] = [];
  const { dispatch } = scripted({
    resyncPageSize: 2,
    resyncConcurrency: 1,
    listClusterPage: (page) => {
      if (page.continueFrom === "4" && !expired) {
        expired = true;
        return Promise.reject(new ExpiredPageError("410"));
      }
      return list(page);
    },
    reconcile: (namespace, name) => {
      visited.push(name);
      return Promise.resolve({ key: `${namespace}/${name}`, writes: [] });
    },
  });
  const result = await dispatch({ kind: "resync", scope: "all" });
  assert.ok(result.ok);
  assert.deepEqual(visited, ["a", "b", "c", "d", "e"], "each once");
});

Deno.test("dispatch takes up a burst's pending creations beside a creation's event; their own events are echoes", async () => {
  let clock = 0;
  const passes: string[] = [];
  const fresh: string[] = [];
  const listed: [boolean, string | undefined][] = [];
  const { dispatch } = scripted({
    now: () => clock,
    reconcile: (namespace, name, _seen, isFresh) => {
      passes.push(name);
      if (isFresh) fresh.push(name);
      return Promise.resolve({
        key: `${namespace}/${name}`,
        writes: ["status"],
        versions: { [`MySQLCluster/${name}`]: ["2"] },
      });
    },
    listClusterPage: (page) => {
      listed.push([page.pendingOnly, page.notOlderThan]);
      return Promise.resolve({
        items: [{ namespace: "shop", name: "new-b" }, {
          namespace: "shop",
          name: "new-c",
        }],
      });
    },
  });
  const created = (name: string, resourceVersion: string) => ({
    ...reconcileWork(name),
    object: {
      key: `MySQLCluster/${name}`,
      resourceVersion,
      fresh: true as const,
    },
  });
  const first = await dispatch(created("new-a", "1"));
  assert.ok(first.ok);
  assert.equal(first.answer.alongside, undefined, "one creation: no burst");
  clock += 500;
  const second = await dispatch(created("new-b", "7"));
  assert.ok(second.ok);
  assert.deepEqual(second.answer.alongside, ["shop/new-c"]);
  assert.equal("versions" in second.answer, false, "versions stay inside");
  assert.deepEqual(
    listed,
    [[true, "7"]],
    "pending clusters only, at least as new as the creation's event",
  );
  assert.deepEqual(passes, ["new-a", "new-b", "new-c"]);
  assert.deepEqual(fresh, passes, "each known never reconciled");
  clock += 5_000;
  const third = await dispatch(created("new-c", "2"));
  assert.ok(third.ok);
  assert.equal(third.answer.outcome, "echo");
  assert.deepEqual(passes, ["new-a", "new-b", "new-c"], "no pass for an echo");
});

Deno.test("dispatch tells a pass its cluster was never reconciled only when the event or a pending listing said so", async () => {
  const fresh: Record<string, boolean | undefined> = {};
  const { dispatch } = scripted({
    reconcile: (namespace, name, _seen, isFresh) => {
      fresh[`${name}`] = isFresh;
      return Promise.resolve({ key: `${namespace}/${name}`, writes: [] });
    },
    listClusterPage: pages(["listed"]),
  });
  const object = (name: string, isNew: boolean) => ({
    key: `MySQLCluster/${name}`,
    resourceVersion: "1",
    ...(isNew ? { fresh: true as const } : {}),
  });
  assert.ok(
    (await dispatch({ ...reconcileWork("made"), object: object("made", true) }))
      .ok,
  );
  assert.ok(
    (await dispatch({
      ...reconcileWork("seen"),
      object: object("seen", false),
    }))
      .ok,
  );
  assert.ok((await dispatch(reconcileWork("named"))).ok);
  assert.deepEqual({ ...fresh }, { made: true, seen: false, named: false });
  assert.ok((await dispatch({ kind: "resync", scope: "pending" })).ok);
  assert.equal(fresh.listed, true, "a pending resync lists only new ones");
  assert.ok((await dispatch({ kind: "resync", scope: "all" })).ok);
  assert.equal(fresh.listed, false, "a full resync knows nothing of them");
});
