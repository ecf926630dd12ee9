// Issue 6 §1, as an attacker tries it: a GameServer whose command reads the controller's
// secrets (`sha256sum ../../../admin.token ../../../agent.secret ../../../tls.key` from its
// srv/ directory), another workload's token and files, and its own agent's token. Run through
// the real server, the real agent and (as root) the real bubblewrap sandbox.
//
// The same attack runs twice: once with `sandbox: none`, where it must read everything (so
// the paths in the script are right and the other run's failures mean something), and once
// with the default, where it must read nothing and run as the workload's own uid.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { runServer, type RunningServer } from "../../controller/src/server-main.js";
import type { ZlhResource } from "../../controller/src/plan/resource.js";
import { client, echoServer, eventually, killAllUnder, processesUnder, workloadDirs } from "./support.js";

const isRoot = process.getuid?.() === 0;

// Each probe prints one line `<label> exit=<status> <output>`: sha256sum prints the hash
// of whatever it could read, so the test compares with the real files' hashes.
const ATTACK = `
probe() { label=$1; shift; out=$("$@" 2>&1); st=$?; echo "$label exit=$st $(echo "$out" | tr '\\n' ' ')"; }
probe secrets sh -c 'sha256sum ../../../admin.token ../../../agent.secret ../../../tls.key; exit $?'
probe absolute sha256sum "$DATA/admin.token"
probe own-token sha256sum ../etc/zlh/token
probe other-token sh -c 'sha256sum ../../*-victim/etc/zlh/token; exit $?'
probe other-files sh -c 'cat ../../*-victim/srv/secret-of-victim; exit $?'
probe others sh -c 'ls ../.. | tr "\\n" ,'
echo "uid=$(id -u) gid=$(id -g)"
echo done
`;

function attacker(dataDir: string): ZlhResource {
  return {
    apiVersion: "zerolaghub.dev/v1alpha1",
    kind: "GameServer",
    metadata: { name: "attacker", namespace: "default" },
    spec: {
      game: "generic",
      // The report goes to its own srv/ (the one place it may write), then it idles.
      command: ["sh", "-c", `(${ATTACK}) > attack.txt; exec sleep 600`],
      env: { DATA: dataDir },
      ports: [{ name: "game", port: 7777 }],
      shutdown: { graceSeconds: 2 },
    },
  };
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

async function attack(sandbox: "none" | "default"): Promise<{ report: string; dataDir: string; hashes: Record<string, string>; uid: number }> {
  const dir = mkdtempSync(join(tmpdir(), "zlh-iso-"));
  const dataDir = join(dir, ".zlh");
  const config = join(dir, "config.yaml");
  const workload = sandbox === "none" ? "providers: { workload: { type: local, sandbox: none } }\n" : "";
  writeFileSync(config, `apiVersion: zerolaghub.dev/v1alpha1\nkind: ControllerConfig\nvmids: { from: 1100, to: 1199 }\n${workload}`);
  // A data directory someone opened up (chmod, a restore): the server closes it again.
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755);
  let server: RunningServer | undefined;
  try {
    server = await runServer({ dataDir, listen: "127.0.0.1:0", configPath: config, logger: pino({ level: "info" }, pino.destination(join(dir, "server.log"))) });
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const api = client(server.kubeconfigPath);
    await api.create(echoServer("victim"));
    const victimDir = await eventually("the victim's workload", () => workloadDirs(dataDir).find((d) => d.endsWith("-victim")));
    const victimSrv = join(dataDir, "workloads", victimDir, "srv");
    await eventually("the victim's srv/", () => existsSync(victimSrv) || undefined);
    writeFileSync(join(victimSrv, "secret-of-victim"), "victim-secret\n");
    await api.create(attacker(dataDir));
    const attackerDir = await eventually("the attacker's workload", () => workloadDirs(dataDir).find((d) => d.endsWith("-attacker")));
    const reportPath = join(dataDir, "workloads", attackerDir, "srv", "attack.txt");
    const report = await eventually("the attack report", () => {
      try {
        const text = readFileSync(reportPath, "utf8");
        return text.includes("\ndone\n") ? text : undefined;
      } catch {
        return undefined;
      }
    });
    const hashes = {
      admin: sha256(join(dataDir, "admin.token")),
      secret: sha256(join(dataDir, "agent.secret")),
      tls: sha256(join(dataDir, "tls.key")),
      ownToken: sha256(join(dataDir, "workloads", attackerDir, "etc/zlh/token")),
      otherToken: sha256(join(dataDir, "workloads", victimDir, "etc/zlh/token")),
    };
    const vmid = Number(/^(\d+)-/.exec(attackerDir)![1]);
    return { report, dataDir, hashes, uid: vmid };
  } finally {
    await server?.close();
    // The server leaves workloads running on close (they outlive a controller restart).
    killAllUnder(dir);
    await eventually("no workload process left", () => processesUnder(dir).length === 0 || undefined, 20_000).catch(() => undefined);
    if (!process.env.ZLH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

const line = (report: string, label: string) => report.split("\n").find((l) => l.startsWith(`${label} `)) ?? `${label} missing`;

describe("a hostile GameServer command against the controller's secrets", () => {
  it("reads every secret when the operator opts out of isolation (sandbox: none), so the attack's paths are right", async () => {
    const { report, hashes } = await attack("none");
    expect(line(report, "secrets")).toContain(hashes.admin);
    expect(line(report, "secrets")).toContain(hashes.secret);
    expect(line(report, "secrets")).toContain(hashes.tls);
    expect(line(report, "secrets")).toMatch(/exit=0 /);
    expect(line(report, "absolute")).toContain(hashes.admin);
    expect(line(report, "own-token")).toContain(hashes.ownToken);
    expect(line(report, "other-token")).toContain(hashes.otherToken);
    expect(line(report, "other-files")).toContain("victim-secret");
    expect(line(report, "others")).toMatch(/-victim,/);
  });

  it("reads none of them by default, and runs as the workload's own user when the controller is root", async () => {
    const { report, hashes, uid } = await attack("default");
    for (const label of ["secrets", "absolute", "own-token", "other-token", "other-files"]) {
      expect(line(report, label)).toMatch(/exit=[1-9]/);
    }
    for (const h of Object.values(hashes)) expect(report).not.toContain(h);
    expect(report).not.toContain("victim-secret");
    // Only its own directory is visible next to the others' place.
    expect(line(report, "others")).toMatch(/^others exit=0 \d+-gameserver-default-attacker, ?$/);
    if (isRoot) {
      expect(report).toContain(`uid=${200_000 + uid} gid=${200_000 + uid}`);
    } else {
      expect(report).toContain(`uid=${process.getuid?.()} `);
    }
  });
});
