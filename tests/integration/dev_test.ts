import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { loadKubeAccess } from "../../lib/kube/config.ts";
import { KubeHttp } from "../../lib/kube/http.ts";
import { runCommand } from "../harness/command.ts";
import { parseDevArgs } from "../harness/dev.ts";
import { startOperatorBed } from "../harness/operator_bed.ts";
import { REPO_ROOT } from "../harness/paths.ts";
import { freePort } from "../harness/process.ts";
import { delay, eventually } from "../harness/wait.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** `deno task dev` in a session of its own, as a terminal would run it. */
class DevSession {
  readonly child: Deno.ChildProcess;
  output = "";
  readonly #done: Promise<void>;

  constructor(port: number, extraArgs: string[] = []) {
    const env: Record<string, string> = { NO_COLOR: "1" };
    for (
      const name of [
        "PATH",
        "HOME",
        "DENO_DIR",
        "XDG_CACHE_HOME",
        "MYSQL_OPERATOR_CACHE",
        "KUBEBUILDER_ASSETS",
      ]
    ) {
      const value = Deno.env.get(name);
      if (value) env[name] = value;
    }
    this.child = new Deno.Command("setsid", {
      args: [
        Deno.execPath(),
        "task",
        "dev",
        "--port",
        String(port),
        ...extraArgs,
      ],
      cwd: REPO_ROOT,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const decoder = new TextDecoder();
    const read = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) {
        this.output += decoder.decode(chunk, { stream: true });
      }
    };
    this.#done = Promise.all([read(this.child.stdout), read(this.child.stderr)])
      .then(() => {});
  }

  /** Waits until the output matches `pattern`; returns the match. */
  async waitFor(
    pattern: RegExp,
    timeoutMs = 180_000,
  ): Promise<RegExpMatchArray> {
    return await eventually(
      `dev output ${pattern}`,
      () => {
        const match = this.output.match(pattern);
        if (!match) throw new Error(`not yet; output so far:\n${this.output}`);
        return match;
      },
      timeoutMs,
      100,
    );
  }

  /** The processes still in its session. */
  async sessionProcesses(): Promise<string[]> {
    const ps = await new Deno.Command("ps", {
      args: ["-eo", "sid=,pid=,comm="],
    })
      .output();
    return new TextDecoder().decode(ps.stdout).split("\n")
      .map((line) => line.trim().split(/\s+/))
      .filter(([sid]) => Number(sid) === this.child.pid)
      .map(([, pid, comm]) => `${pid} ${comm}`);
  }

  /** Ctrl-C: SIGINT to the whole process group, as a terminal sends it. */
  async interrupt(): Promise<Deno.CommandStatus> {
    Deno.kill(-this.child.pid, "SIGINT");
    const status = await Promise.race([
      this.child.status,
      delay(60_000).then(() => undefined),
    ]);
    if (!status) {
      Deno.kill(-this.child.pid, "SIGKILL");
      throw new Error(`dev did not stop within 60 s:\n${this.output}`);
    }
    await this.#done;
    return status;
  }
}

async function event(args: string[]): Promise<{ code: number; out: string }> {
  const { code, output } = await runCommand(
    Deno.execPath(),
    ["task", "event", ...args],
    { cwd: REPO_ROOT, env: { NO_COLOR: "1" } },
  );
  return { code, out: output };
}

Deno.test("parseDevArgs reads --kubeconfig and --port, refuses 8080", () => {
  assert.deepEqual(parseDevArgs(["--kubeconfig", "k", "--port=9000"]), {
    kubeconfig: "k",
    port: 9000,
  });
  assert.equal(parseDevArgs([], () => "9001").port, 9001);
  assert.equal(parseDevArgs([]).port, 8081);
  assert.throws(() => parseDevArgs(["--port", "8080"]), /8080 is taken/);
  assert.throws(() => parseDevArgs(["--port", "x"]), /not a TCP port/);
  assert.throws(
    () => parseDevArgs(["--verbose"]),
    /unknown argument --verbose/,
  );
});

Deno.test("deno task dev: the whole loop, then nothing left behind", async (t) => {
  const port = freePort();
  const url = `http://127.0.0.1:${port}/`;
  const dev = new DevSession(port);
  let kubeconfig = "";
  try {
    await t.step("it starts and says what to do", async () => {
      kubeconfig = (await dev.waitFor(/export KUBECONFIG=(\S+)/))[1]!;
      assert.match(
        dev.output,
        /kubectl\S* apply -f knative\/samples\/mysqlcluster_minimal\.yaml/,
      );
      assert.match(
        dev.output,
        /adapters mysql-clusters, mysql-statefulsets/,
      );
      assert.match(dev.output, /traces: +printed below as a span tree/);
    });

    await t.step(
      "a sample applied with the client gets its children and status",
      async () => {
        using kube = new KubeHttp(await loadKubeAccess(kubeconfig));
        const sample = parseYaml(
          await Deno.readTextFile(
            `${REPO_ROOT}/knative/samples/mysqlcluster_minimal.yaml`,
          ),
        ) as Any;
        const name = sample.metadata.name;
        await kube.request(
          "POST",
          "/apis/database.example.com/v1/namespaces/default/mysqlclusters",
          { body: sample },
        );
        await eventually("status and children", async () => {
          const cluster = await kube.request<Any>(
            "GET",
            `/apis/database.example.com/v1/namespaces/default/mysqlclusters/${name}`,
          );
          assert.equal(cluster.status?.phase, "Provisioning");
          await kube.request(
            "GET",
            `/apis/apps/v1/namespaces/default/statefulsets/${name}`,
          );
        }, 20_000);
        // the request printed as a span tree
        await dev.waitFor(
          new RegExp(
            `reconcile default/${name}  200 .*reconciled.*\\n  changed: created Secret ${name}-credentials`,
          ),
          10_000,
        );
      },
    );

    await t.step("deno task event sends what the sources would", async () => {
      const update = await event(["update", "--url", url]);
      assert.equal(update.code, 0, update.out);
      assert.match(update.out, /← HTTP 200/);
      assert.match(update.out, /"key": "default\/demo"/);
      const structured = await event([
        "add",
        `${REPO_ROOT}/knative/samples/mysqlcluster_minimal.yaml`,
        "--structured",
        "--url",
        url,
      ]);
      assert.equal(structured.code, 0, structured.out);
      assert.match(structured.out, /\(structured\)/);
      const resync = await event(["resync", "--url", url]);
      assert.equal(resync.code, 0, resync.out);
      assert.match(resync.out, /"outcome": "resynced"/);
      assert.match(resync.out, /"done": 1/);
      const missing = await event([
        "update",
        "/nonexistent.yaml",
        "--url",
        url,
      ]);
      assert.equal(missing.code, 2);
      assert.match(missing.out, /cannot read \/nonexistent\.yaml/);
    });
  } finally {
    await t.step(
      "Ctrl-C stops everything and removes the temporary directory",
      async () => {
        const status = await dev.interrupt();
        assert.equal(status.code, 130, dev.output);
        assert.deepEqual(await dev.sessionProcesses(), []);
        assert.match(dev.output, /dev: stopped everything it started/);
        if (kubeconfig) {
          const dir = kubeconfig.replace(/\/kubeconfig$/, "");
          await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
        }
      },
    );
  }

  await t.step("a second deno task dev starts clean", async () => {
    const again = new DevSession(port);
    try {
      const second = (await again.waitFor(/export KUBECONFIG=(\S+)/))[1]!;
      assert.notEqual(second, kubeconfig);
      using kube = new KubeHttp(await loadKubeAccess(second));
      const list = await kube.request<Any>(
        "GET",
        "/apis/database.example.com/v1/mysqlclusters",
      );
      assert.deepEqual(list.items, []);
    } finally {
      const status = await again.interrupt();
      assert.equal(status.code, 130);
      assert.deepEqual(await again.sessionProcesses(), []);
    }
  });
});

Deno.test("deno task dev --kubeconfig runs the function against that cluster", async (t) => {
  await using cp = await startOperatorBed("shop", ["db"]);
  const port = freePort();
  const dev = new DevSession(port, ["--kubeconfig", cp.kubeconfigPath]);
  try {
    await t.step("the banner names the cluster", async () => {
      await dev.waitFor(/against YOUR cluster/, 60_000);
      assert.ok(dev.output.includes(`cluster:   ${cp.server}`), dev.output);
      assert.match(dev.output, /namespace: default/);
      assert.doesNotMatch(dev.output, /local control plane/);
    });
    await t.step(
      "events sent to it reconcile that cluster's objects",
      async () => {
        const sent = await event([
          "update",
          "--namespace",
          "shop",
          "--url",
          `http://127.0.0.1:${port}/`,
          `${REPO_ROOT}/knative/samples/mysqlcluster_minimal.yaml`,
        ]);
        // the sample is "demo", which does not exist there: nothing to do
        assert.equal(sent.code, 0, sent.out);
        assert.match(sent.out, /"outcome": "absent"/);
        const resync = await event([
          "resync",
          "--url",
          `http://127.0.0.1:${port}/`,
        ]);
        assert.match(resync.out, /"changed": \[\s*"shop\/db"\s*\]/);
        await cp.kube.request(
          "GET",
          "/apis/apps/v1/namespaces/shop/statefulsets/db",
        );
      },
    );
  } finally {
    await t.step(
      "Ctrl-C stops the function and leaves the cluster alone",
      async () => {
        const status = await dev.interrupt();
        assert.equal(status.code, 130, dev.output);
        assert.deepEqual(await dev.sessionProcesses(), []);
        await cp.kube.request("GET", "/readyz");
      },
    );
  }
});

Deno.test("deno task dev --kubeconfig refuses a cluster it cannot reach", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/kubeconfig`;
    await Deno.writeTextFile(
      path,
      `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${freePort()}"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
    );
    const dev = new DevSession(freePort(), ["--kubeconfig", path]);
    const status = await dev.child.status;
    await dev.interrupt().catch(() => {});
    assert.equal(status.code, 1);
    assert.match(dev.output, /cannot reach the cluster of .*kubeconfig/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
