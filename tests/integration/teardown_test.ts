import assert from "node:assert/strict";
import { sweepStaleDirs } from "../harness/control_plane.ts";
import { runningOf } from "../harness/process.ts";
import { eventually } from "../harness/wait.ts";

const FIXTURE =
  new URL("./fixtures/hold_control_plane.ts", import.meta.url).pathname;

interface Held {
  child: Deno.ChildProcess;
  dir: string;
  pids: number[];
  /** stderr, once the fixture has exited */
  output: Promise<string>;
}

/** Runs the fixture until it reports its control plane. */
async function hold(mode: "wait" | "throw"): Promise<Held> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-run",
      "--allow-read",
      "--allow-write",
      "--allow-net",
      "--allow-env",
      "--allow-sys=osRelease",
      FIXTURE,
      mode,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`fixture ended before reporting: ${await stderr}`);
    }
    text += value;
  }
  // keep draining stdout until the fixture exits
  const drained = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  const { dir, pids } = JSON.parse(text.slice(0, text.indexOf("\n")));
  return {
    child,
    dir,
    pids,
    output: Promise.all([stderr, drained]).then(([e]) => e),
  };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function assertNothingLeft(held: Held): Promise<void> {
  await eventually("every child process ends", async () => {
    const alive = await runningOf(held.pids);
    assert.deepEqual(alive, [], `still running: ${alive.join(", ")}`);
  }, 10_000);
  assert.equal(await exists(held.dir), false, `${held.dir} removed`);
}

Deno.test("control plane teardown on Ctrl-C leaves no process and no directory", async () => {
  const held = await hold("wait");
  assert.equal(held.pids.length, 3, "etcd, kube-apiserver and the adapter");
  const running = await runningOf(held.pids);
  const missing = held.pids.filter((pid) => !running.includes(pid));
  if (missing.length > 0) {
    held.child.kill("SIGKILL");
    assert.fail(`not running: ${missing.join(", ")}\n${await held.output}`);
  }
  held.child.kill("SIGINT");
  const status = await held.child.status;
  await held.output;
  assert.equal(status.code, 130);
  await assertNothingLeft(held);
});

Deno.test("control plane teardown on a failure leaves no process and no directory", async () => {
  const held = await hold("throw");
  const status = await held.child.status;
  assert.notEqual(status.code, 0);
  assert.match(await held.output, /fixture failure after start/);
  await assertNothingLeft(held);
});

Deno.test("control plane children die with a killed test process; the next start sweeps its directory", async () => {
  const held = await hold("wait");
  held.child.kill("SIGKILL");
  await held.child.status;
  await held.output;
  await eventually("every child process ends", async () => {
    assert.deepEqual(await runningOf(held.pids), []);
  }, 10_000);
  assert.ok(await exists(held.dir), "nothing could remove it yet");
  const removed = await sweepStaleDirs();
  assert.ok(removed.includes(held.dir), `swept: ${removed.join(", ")}`);
  assert.equal(await exists(held.dir), false);
});
