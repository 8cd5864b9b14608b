import assert from "node:assert/strict";
import { runCommand } from "../../tests/harness/command.ts";
import { desiredStatefulSet } from "./desired_children.ts";
import {
  clusterConfigFiles,
  configHash,
  initConfigScript,
  initdbUsersScript,
  myCnf,
  readyScript,
  replicateScript,
} from "./mysql_scripts.ts";
import { PROBE_USER, REPLICATION_USER, SECRET_KEYS } from "./mysql_topology.ts";
import { generatePassword } from "../reconcile/password.ts";
import { clusterFixture, effectiveSpec } from "./test_fixtures.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

const cluster = clusterFixture({ replicas: 3 });
const files = clusterConfigFiles(cluster);
const scripts = Object.keys(files).filter((f) => f.endsWith(".sh"));

/** The `[mysqld]` settings of a my.cnf, lower-cased names. */
function settings(cnf: string): Record<string, string> {
  return Object.fromEntries(
    cnf.split("\n").filter((l) => /^\w+\s*=/.test(l)).map((l) => {
      const [k, v] = l.split("=", 2) as [string, string];
      return [k.trim().toLowerCase(), v.trim()];
    }),
  );
}

async function run(command: string, args: string[]) {
  const { code, output } = await runCommand(command, args);
  return { code, text: output };
}

Deno.test("the cluster's scripts pass bash -n and shellcheck", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const name of scripts) {
      const path = `${dir}/${name}`;
      await Deno.writeTextFile(path, files[name]!);
      const syntax = await run("bash", ["-n", path]);
      assert.equal(syntax.code, 0, `${name}: ${syntax.text}`);
      const lint = await run("shellcheck", ["--shell=bash", path]);
      assert.equal(lint.code, 0, `${name}:\n${lint.text}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shellcheck really reads the scripts (a planted mistake fails)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/bad.sh`;
    await Deno.writeTextFile(
      path,
      files["replicate.sh"]!.replace('"$ordinal" -eq 0', "$ordinal == 0"),
    );
    assert.notEqual((await run("shellcheck", ["--shell=bash", path])).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the SQL relies only on what the configuration enables", () => {
  const cnf = settings(myCnf(cluster));
  const replicate = replicateScript(cluster);
  // CLONE INSTANCE needs the clone plugin on donor and recipient
  assert.match(replicate, /CLONE INSTANCE FROM/);
  assert.equal(cnf.plugin_load_add, "mysql_clone.so");
  // auto-positioning needs GTIDs
  assert.match(replicate, /SOURCE_AUTO_POSITION = 1/);
  assert.equal(cnf.gtid_mode, "ON");
  assert.equal(cnf.enforce_gtid_consistency, "ON");
  assert.ok(cnf.log_bin, "the primary keeps a binary log");
  // replication starts only once the sidecar has pointed it at the primary
  assert.equal(cnf.skip_replica_start, "ON");
  assert.match(replicate, /START REPLICA/);
});

Deno.test("the SQL's accounts are the ones created, with the grants they use", () => {
  const users = initdbUsersScript(cluster);
  const replicate = replicateScript(cluster);
  const ready = readyScript(cluster);
  // the replica clones and replicates as the replication user…
  assert.match(
    replicate,
    new RegExp(`CLONE INSTANCE FROM '${REPLICATION_USER}'@`),
  );
  assert.match(replicate, new RegExp(`SOURCE_USER = '${REPLICATION_USER}'`));
  // …which exists on the primary with REPLICATION SLAVE and BACKUP_ADMIN (clone donor)
  assert.match(
    users,
    new RegExp(`CREATE USER IF NOT EXISTS '${REPLICATION_USER}'@'%'`),
  );
  const replicationGrant = users.match(
    new RegExp(`GRANT (.*) ON \\*\\.\\* TO '${REPLICATION_USER}'@'%'`),
  )?.[1] ?? "";
  for (const privilege of ["REPLICATION SLAVE", "BACKUP_ADMIN"]) {
    assert.ok(replicationGrant.includes(privilege), privilege);
  }
  // the probe logs in over TCP from 127.0.0.1 as the probe user created for that host
  assert.match(
    users,
    new RegExp(`CREATE USER IF NOT EXISTS '${PROBE_USER}'@'127\\.0\\.0\\.1'`),
  );
  assert.match(ready, /-h 127\.0\.0\.1/);
  assert.match(
    initConfigScript(cluster),
    new RegExp(`probe\\.cnf" ${PROBE_USER} `),
  );
  // and may read exactly the tables readiness reads
  const tables = [...ready.matchAll(/FROM (performance_schema\.\w+)/g)].map((
    m,
  ) => m[1]);
  assert.deepEqual(tables, [
    "performance_schema.replication_applier_status",
    "performance_schema.replication_connection_status",
  ]);
  for (const table of tables) {
    assert.ok(
      users.includes(`GRANT SELECT ON ${table} TO '${PROBE_USER}'@'127.0.0.1'`),
      String(table),
    );
  }
  // the sidecar talks to its own mysqld as root over 127.0.0.1, the only
  // host root may come from
  assert.match(replicate, /root\.cnf" --protocol=tcp -h 127\.0\.0\.1/);
  const sts = desiredStatefulSet(cluster, effectiveSpec(cluster)) as Any;
  assert.deepEqual(
    sts.spec.template.spec.containers[0].env.find((e: Any) =>
      e.name === "MYSQL_ROOT_HOST"
    ),
    { name: "MYSQL_ROOT_HOST", value: "127.0.0.1" },
  );
});

Deno.test("a replica is made writable only for its first clone", () => {
  const replicate = replicateScript(cluster);
  const off = replicate.indexOf("SET GLOBAL super_read_only = OFF");
  const clone = replicate.indexOf("CLONE INSTANCE FROM");
  assert.ok(off > 0 && off < clone);
  assert.ok(
    replicate.lastIndexOf(
      'if [ "$clones" = 0 ] && [ "$channels" = 0 ]; then',
      off,
    ) > 0,
    "only while nothing was cloned or configured yet",
  );
});

Deno.test("the scripts read the passwords from the Secret keys the pod mounts", () => {
  const sts = desiredStatefulSet(cluster, effectiveSpec(cluster)) as Any;
  const secretVolume = sts.spec.template.spec.volumes.find((v: Any) =>
    v.name === "credentials"
  );
  assert.equal(secretVolume.secret.secretName, "db-credentials");
  const all = scripts.map((s) => files[s]).join("\n");
  const read = [...all.matchAll(/\/etc\/mysql-credentials\/([a-z-]+)/g)].map((
    m,
  ) => m[1]);
  assert.ok(read.length > 0);
  for (const key of read) {
    assert.ok(Object.values(SECRET_KEYS).includes(key as Any), String(key));
  }
  for (
    const container of [
      ...sts.spec.template.spec.initContainers,
      ...sts.spec.template.spec.containers,
    ]
  ) {
    assert.ok(
      container.volumeMounts.some((m: Any) =>
        m.name === "credentials" && m.mountPath === "/etc/mysql-credentials"
      ),
      container.name,
    );
  }
  // generated passwords cannot break out of the SQL string literals
  for (let i = 0; i < 50; i++) {
    assert.match(generatePassword(), /^[A-Za-z0-9]+$/);
  }
});

Deno.test("replicas find the primary at pod 0's per-pod DNS name", () => {
  const replicate = replicateScript(cluster);
  assert.match(replicate, /primary="db-0\.db"/);
  assert.match(replicate, /clone_valid_donor_list = '\$\{primary\}:3306'/);
  const sts = desiredStatefulSet(cluster, effectiveSpec(cluster)) as Any;
  assert.equal(
    sts.spec.serviceName,
    "db",
    "the headless Service gives db-0.db",
  );
  assert.match(initConfigScript(cluster), /report_host = \$\{HOSTNAME\}\.db/);
});

Deno.test("only replicas are made read-only, and server ids differ by ordinal", () => {
  const init = initConfigScript(cluster);
  assert.match(init, /server_id=\$\(\(1000 \+ ordinal\)\)/);
  assert.match(
    init,
    /if \[ "\$ordinal" -ne 0 \] && \[ -d "\/var\/lib\/mysql\/mysql" \]; then\n\s+echo "super_read_only = ON"/,
  );
  const replicate = replicateScript(cluster);
  const primaryExit = replicate.indexOf("exec sleep infinity");
  const readOnly = replicate.indexOf("SET PERSIST super_read_only = ON");
  assert.ok(
    primaryExit > 0 && readOnly > primaryExit,
    "the primary leaves before",
  );
});

Deno.test("configHash changes with the files and only with them", () => {
  assert.equal(configHash(files), configHash(clusterConfigFiles(cluster)));
  const other = clusterConfigFiles(clusterFixture({ replicas: 5 }));
  assert.equal(configHash(files), configHash(other), "replicas are not config");
  const renamed = clusterConfigFiles({
    ...cluster,
    metadata: { ...cluster.metadata, name: "orders" },
  });
  assert.notEqual(configHash(files), configHash(renamed));
});
