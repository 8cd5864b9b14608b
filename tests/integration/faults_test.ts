/**
 * Faults, loss and scale — the function as its image runs it, fed by the
 * real ApiServerSource adapters through a relay that records, drops,
 * fans out or re-targets events; a real apiserver that is stopped and
 * started; a function that is sent SIGTERM mid-burst. Each step prints
 * its figures (the README's table comes from these lines).
 *
 * @module
 */

import assert from "node:assert/strict";
import { childNames } from "../../lib/core/child_names.ts";
import { KINDS } from "../../lib/core/kinds.ts";
import { resourcePath } from "../../lib/kube/api.ts";
import { applyObjects } from "../harness/apply.ts";
import {
  namespaceState,
  reset,
  secretWrites,
  unconverged,
} from "../harness/cluster_state.ts";
import type { ControlPlane } from "../harness/control_plane.ts";
import {
  type Answer,
  EventRelay,
  redeliver,
  type RelayedEvent,
  seeded,
  shuffled,
} from "../harness/event_relay.ts";
import {
  encodeEvent,
  pingEvent,
  type PingReason,
  postEvent,
} from "../harness/events.ts";
import {
  type FunctionProcess,
  startFunction,
} from "../harness/function_process.ts";
import { type ImageRun, prepareImageRun } from "../harness/image_run.ts";
import { startKnativeSources } from "../harness/knative_base.ts";
import { clusterManifest, startOperatorBed } from "../harness/operator_bed.ts";
import { delay, eventually, pool } from "../harness/wait.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;

const CLUSTERS = (ns: string) => resourcePath(KINDS.MySQLCluster, ns);

// the ApiServerSources of knative/base/sources.yaml, run as adapters
const CLUSTERS_SOURCE = "mysql-clusters";
const STATEFULSETS_SOURCE = "mysql-statefulsets";

const inNamespace = (ns: string) => (event: RelayedEvent) =>
  event.headers["ce-namespace"] === ns;

/** Resolves once the relay has received `count` events of `ns` since `from`. */
function received(relay: EventRelay, ns: string, from: number, count: number) {
  return eventually(
    `${count} events of ${ns} received`,
    () =>
      assert.ok(
        relay.events.slice(from).filter(inNamespace(ns)).length >= count,
      ),
    30_000,
    10,
  );
}

/** Resolves once the relay has received nothing for `quietMs`. */
async function quiet(relay: EventRelay, quietMs = 2_000, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  while (Date.now() < deadline) {
    const now = relay.events.length;
    if (now === seen) return;
    seen = now;
    await delay(quietMs);
  }
  throw new Error(`events still arriving after ${timeoutMs} ms`);
}

/** Creates `names` in `ns` (3-replica clusters), 8 at a time. */
function createClusters(cp: ControlPlane, ns: string, names: string[]) {
  return pool(names, 8, (name) =>
    cp.kube.request("POST", CLUSTERS(ns), {
      body: clusterManifest(ns, name),
    }));
}

/** A merge patch of a cluster. */
function patch(
  cp: ControlPlane,
  ns: string,
  name: string,
  body: Record<string, unknown>,
) {
  return cp.kube.request(
    "PATCH",
    resourcePath(KINDS.MySQLCluster, ns, name),
    { body, contentType: "application/merge-patch+json" },
  );
}

function scale(cp: ControlPlane, ns: string, name: string, replicas: number) {
  return patch(cp, ns, name, { spec: { replicas } });
}

/** A resync as the PingSource sends it (`pending`: the per-minute one). */
async function ping(fn: FunctionProcess, reason: PingReason) {
  const started = performance.now();
  const response = await postEvent(fn.url, pingEvent(reason));
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return { body, ms: performance.now() - started };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Whether an answer tells the sender to try again later: 502, 503, or no
 * connection at all because nothing listened (refused; a connection cut
 * mid-request is not retryable: the request may have been half handled).
 */
function retryable(answer: Answer): boolean {
  return answer.status === 502 || answer.status === 503 ||
    (answer.status === 0 && /connection refused/i.test(answer.body));
}

/** The answers of `relay`'s events from the `from`th on that are not 2xx and not retryable. */
function refused(relay: EventRelay, from: number) {
  return relay.answers(from).filter((a) =>
    (a.status < 200 || a.status >= 300) && !retryable(a)
  );
}

Deno.test("faults: replayed, lost, undelivered events; two instances; SIGTERM; an apiserver outage", async (t) => {
  await using cp = await startOperatorBed("replay");
  const image: ImageRun = await prepareImageRun(cp);
  const start = (name: string) =>
    startFunction(cp, {
      name,
      env: { ...image.env, LOG_LEVEL: "warn" },
      image,
    });
  let fn = await start("faults");
  await using relay = new EventRelay({ targets: [fn.url] });
  let sources = await startKnativeSources(cp, relay.url, [
    CLUSTERS_SOURCE,
    STATEFULSETS_SOURCE,
  ]);
  const namespace = (name: string) =>
    applyObjects(cp.kube, [
      { apiVersion: "v1", kind: "Namespace", metadata: { name } },
    ]);
  /** Resolves once every cluster of `ns` has converged. */
  const converges = (
    ns: string,
    what: string,
    timeoutMs: number,
    intervalMs?: number,
  ) =>
    eventually(
      what,
      async () => assert.deepEqual(await unconverged(cp.kube, ns), []),
      timeoutMs,
      intervalMs,
    );

  await t.step(
    "replay: 1×, 3×, 10×, in order and shuffled → the same end state, then no write",
    async () => {
      const ns = "replay";
      const from = relay.events.length;
      await applyObjects(cp.kube, [
        clusterManifest(ns, "r1", {
          version: "8.4",
          storageSize: "1Gi",
          replicas: 1,
        }),
        clusterManifest(ns, "r2"),
        clusterManifest(ns, "r3"),
      ]);
      await converges(ns, "created", 30_000);
      await quiet(relay);
      await scale(cp, ns, "r2", 5);
      await scale(cp, ns, "r1", 0);
      await patch(cp, ns, "r3", {
        spec: { resources: { cpu: "1", memory: "2Gi" } },
      });
      await converges(ns, "changed", 30_000);
      await quiet(relay);
      const recorded = relay.events.slice(from).filter(inNamespace(ns));
      assert.ok(recorded.length >= 10, `${recorded.length} events recorded`);
      const reference = await namespaceState(cp.kube, ns);
      const random = seeded(16);
      // from here on the adapters' events (of the resets' and the replays'
      // writes) are dropped: the function sees the recorded events only
      relay.set({ drop: (_, e) => inNamespace(ns)(e) });
      const figures: string[] = [];
      for (const times of [1, 3, 10]) {
        for (const order of ["in order", "shuffled"] as const) {
          await reset(cp.kube, ns);
          // each event `times` times in a row (as retries deliver it), or
          // all of them in a random order
          const repeated = recorded.flatMap((e) =>
            Array.from({ length: times }, () => e)
          );
          const sequence = order === "shuffled"
            ? shuffled(repeated, random)
            : repeated;
          const started = performance.now();
          for (const event of sequence) {
            const answer = await redeliver(fn.url, event);
            assert.equal(answer.status, 200, answer.body);
          }
          const ms = performance.now() - started;
          const state = await namespaceState(cp.kube, ns);
          assert.deepEqual(
            state.normalized,
            reference.normalized,
            `${times}× ${order}: the end state differs`,
          );
          // converged: every event once more, shuffled → no write at all
          const writes: string[] = [];
          for (const event of shuffled(recorded, random)) {
            const answer = await redeliver(fn.url, event);
            assert.equal(answer.status, 200, answer.body);
            writes.push(...(JSON.parse(answer.body).writes ?? []));
          }
          assert.deepEqual(
            writes,
            [],
            `${times}× ${order}: writes after convergence`,
          );
          assert.deepEqual(
            (await namespaceState(cp.kube, ns)).versions,
            state.versions,
            `${times}× ${order}: resourceVersions changed after convergence`,
          );
          figures.push(
            `${times}× ${order}: ${sequence.length} events ${fmt(ms)}`,
          );
        }
      }
      relay.set({ drop: undefined });
      console.log(
        `replay: ${recorded.length} recorded events of 3 clusters; same end state and then no write for ${
          figures.join(", ")
        }`,
      );
    },
  );

  await t.step(
    "loss: 30 % of events dropped → one resync converges every cluster",
    async () => {
      const ns = "loss";
      await namespace(ns);
      const random = seeded(30);
      relay.set({ drop: (_, e) => inNamespace(ns)(e) && random() < 0.3 });
      const names = Array.from({ length: 30 }, (_, i) => `l${i}`);
      await createClusters(cp, ns, names);
      await quiet(relay, 3_000);
      await pool(names.slice(0, 10), 4, (name) => scale(cp, ns, name, 5));
      await quiet(relay, 3_000);
      relay.set({ drop: undefined });
      const events = relay.events.filter(inNamespace(ns));
      const dropped = events.filter((e) => e.dropped).length;
      assert.ok(dropped > 0, `none of ${events.length} events dropped`);
      const before = await unconverged(cp.kube, ns);
      const { body, ms } = await ping(fn, "resync");
      assert.deepEqual(await unconverged(cp.kube, ns), [], "after one resync");
      assert.equal(body.failedCount, 0, JSON.stringify(body.failed));
      console.log(
        `loss: 30 clusters + 10 scaled, ${dropped} of ${events.length} events dropped; ${before.length} not converged before the resync, 0 after one (${
          fmt(ms)
        }, ${body.total} clusters, ${body.changedCount} changed)`,
      );
    },
  );

  await t.step(
    "adapter restart: what changed while it was down converges with the next pending and full resyncs",
    async () => {
      const ns = "restart";
      await namespace(ns);
      const first = Array.from({ length: 10 }, (_, i) => `a${i}`);
      await createClusters(cp, ns, first);
      await converges(ns, "first converged", 60_000);
      // nothing in flight: an event of a creation would take up pending ones
      await quiet(relay);
      await sources[CLUSTERS_SOURCE].stop();
      const whileDown = Array.from({ length: 10 }, (_, i) => `b${i}`);
      await createClusters(cp, ns, whileDown);
      await pool(first.slice(0, 5), 4, (name) => scale(cp, ns, name, 5));
      const restarted = performance.now();
      // the clusters' adapter only: the StatefulSets' one still runs
      sources = {
        ...sources,
        ...await startKnativeSources(cp, relay.url, [CLUSTERS_SOURCE]),
      };
      await quiet(relay, 3_000);
      const lost = await unconverged(cp.kube, ns);
      // the restarted adapter sends nothing for what exists when it starts
      assert.deepEqual(
        lost.sort(),
        [...whileDown, ...first.slice(0, 5)].sort(),
      );
      const pending = await ping(fn, "pending");
      assert.deepEqual(
        (await unconverged(cp.kube, ns)).sort(),
        first.slice(0, 5).sort(),
        "the pending resync reconciles the creations",
      );
      const full = await ping(fn, "resync");
      assert.deepEqual(
        await unconverged(cp.kube, ns),
        [],
        "the full resync the rest",
      );
      console.log(
        `adapter restart: 10 created and 5 scaled while the adapter was down (no event ever): pending resync ${
          fmt(pending.ms)
        } repaired the 10 creations, full resync ${
          fmt(full.ms)
        } the 5 scales; repaired ${
          fmt(performance.now() - restarted)
        } after the restart here, in a cluster within 1 min (creations) and 10 min (changes) + those times`,
      );
    },
  );

  await t.step(
    "two instances: each event to both, 200 clusters → all converge, no 5xx, one Secret write each",
    async () => {
      const ns = "pair";
      await namespace(ns);
      await using second = await start("faults-second");
      const from = relay.events.length;
      relay.set({ targets: [fn.url, second.url], fanOut: true });
      const names = Array.from({ length: 200 }, (_, i) => `p${i}`);
      const started = performance.now();
      await createClusters(cp, ns, names);
      await converges(ns, "200 converged", 180_000, 500);
      const convergedMs = performance.now() - started;
      await quiet(relay, 3_000);
      relay.set({ targets: [fn.url], fanOut: false });
      const answers = relay.answers(from);
      const failed = answers.filter((a) => a.status >= 500 || a.status === 0);
      assert.deepEqual(
        failed.map((a) => `${a.status} ${a.body}`),
        [],
        "no 5xx",
      );
      const writes = (await secretWrites(cp.auditLogPath, ns)).filter((w) =>
        w.code < 300
      );
      const byName = Map.groupBy(writes, (w) => w.name);
      const { items: secrets } = await cp.kube.request<{ items: Loose[] }>(
        "GET",
        resourcePath(KINDS.Secret, ns),
      );
      assert.equal(secrets.length, 200);
      for (const secret of secrets) {
        assert.deepEqual(
          (byName.get(secret.metadata.name) ?? []).map((w) =>
            w.verb === "create"
              ? w.verb
              : `${w.verb} ${w.uri} by ${w.userAgent}`
          ),
          ["create"],
          `${secret.metadata.name}: written once, its first password kept`,
        );
      }
      const conflicts = answers.filter((a) => a.status === 409).length;
      console.log(
        `two instances: 200 clusters, ${answers.length} deliveries (each event to both) converged in ${
          fmt(convergedMs)
        }; 5xx: 0, 409: ${conflicts}; Secrets: 200, each created once and never written again (audit log)`,
      );
    },
  );

  await t.step(
    "SIGTERM mid-burst: in-flight requests finish or are refused retryably; nothing half written",
    async () => {
      const ns = "term";
      await namespace(ns);
      const names = Array.from({ length: 40 }, (_, i) => `t${i}`);
      const from = relay.events.length;
      const creating = createClusters(cp, ns, names);
      await received(relay, ns, from, 5);
      const old = fn;
      await old.stop();
      assert.equal(old.process.exitStatus?.code, 0, "a graceful exit");
      await creating;
      // status is the last write of a pass: a cluster with one has all its
      // children, the three Services and the budget of its 3 replicas too
      const clusters =
        (await cp.kube.request<{ items: Loose[] }>("GET", CLUSTERS(ns))).items;
      const children = await namespaceState(cp.kube, ns);
      for (const cluster of clusters.filter((c) => c.status?.phase)) {
        assert.equal(cluster.spec.replicas, 3);
        const names = childNames(cluster);
        for (
          const child of [
            `Secret/${names.secret}`,
            `ConfigMap/${names.configMap}`,
            `Service/${names.headlessService}`,
            `Service/${names.clientService}`,
            `Service/${names.readService}`,
            `StatefulSet/${names.statefulSet}`,
            `PodDisruptionBudget/${names.podDisruptionBudget}`,
          ]
        ) {
          assert.ok(
            children.versions[child],
            `${cluster.metadata.name} has a status (${
              JSON.stringify(cluster.status)
            }) but no ${child}; there are ${
              Object.keys(children.versions).join(", ")
            }`,
          );
        }
      }
      const reconciledBefore = clusters.filter((c) => c.status?.phase).length;
      assert.ok(reconciledBefore > 0, "no cluster reconciled before the exit");
      fn = await start("faults-after-term");
      relay.set({ targets: [fn.url] });
      await quiet(relay, 3_000);
      const toOld = relay.answers(from).filter((a) => a.target === old.url);
      assert.deepEqual(
        refused(relay, from).map((a) => `${a.status} ${a.body}`),
        [],
      );
      const pending = await ping(fn, "pending");
      assert.deepEqual(await unconverged(cp.kube, ns), []);
      console.log(
        `SIGTERM: 40 clusters, ${toOld.length} deliveries to the stopping instance (${
          toOld.filter((a) => a.status === 200).length
        } answered 200, ${
          toOld.filter(retryable).length
        } refused retryably, none 500), ${reconciledBefore} reconciled before it exited 0, none half written; the next instance and a pending resync (${
          fmt(pending.ms)
        }) converged the rest`,
      );
    },
  );

  await t.step(
    "apiserver outage mid-burst: 503 while it is gone, within the call timeout; all converge after",
    async () => {
      const ns = "outage";
      await namespace(ns);
      const names = Array.from({ length: 30 }, (_, i) => `o${i}`);
      const from = relay.events.length;
      await createClusters(cp, ns, names);
      await received(relay, ns, from, 5);
      await cp.stopApiserver();
      const down = performance.now();
      const during: { status: number; outcome?: string }[] = [];
      let slowest = 0;
      const send = async (event: Pick<RelayedEvent, "headers" | "body">) => {
        const answer = await redeliver(fn.url, event);
        const outcome = answer.status === 200
          ? JSON.parse(answer.body).outcome
          : undefined;
        during.push({ status: answer.status, outcome });
        slowest = Math.max(slowest, answer.ms);
      };
      try {
        const sample = relay.events.slice(from).filter(inNamespace(ns));
        for (const event of sample.slice(0, 8)) await send(event);
        await send(encodeEvent(pingEvent("resync")));
      } finally {
        await cp.startApiserver();
      }
      const outageMs = performance.now() - down;
      // an echo of the cluster's last pass needs no API call: 200 even now
      const echoes = during.filter((d) => d.outcome === "echo").length;
      const unavailable = during.filter((d) => d.status === 503).length;
      assert.equal(
        echoes + unavailable,
        during.length,
        `answers while down: ${JSON.stringify(during)}`,
      );
      assert.ok(unavailable >= 1, "the resync at least needs the API");
      assert.ok(slowest < 11_000, `an answer took ${slowest} ms`);
      await quiet(relay, 3_000);
      assert.deepEqual(
        refused(relay, from).map((a) => `${a.status} ${a.body}`),
        [],
      );
      const before = await unconverged(cp.kube, ns);
      const full = await ping(fn, "resync");
      assert.deepEqual(await unconverged(cp.kube, ns), []);
      console.log(
        `apiserver outage: 30 clusters, apiserver down ${
          fmt(outageMs)
        }: ${unavailable} of ${during.length} events answered 503 (slowest ${
          slowest.toFixed(0)
        } ms), ${echoes} echoes 200 with no API call; ${before.length} not converged after it came back, 0 after one resync (${
          fmt(full.ms)
        })`,
      );
    },
  );

  await sources[CLUSTERS_SOURCE].stop();
  await sources[STATEFULSETS_SOURCE].stop();
  await fn.stop();
});
