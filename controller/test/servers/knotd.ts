// A real Knot DNS server for tests (TEST-SERVERS.md): own directory, a random loopback
// address and free port, one zone updatable and transferable with one TSIG key.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, randomLoopback } from "./free-port.js";

export interface Knotd {
  host: string;
  port: number;
  zone: string;
  keyName: string;
  /** base64, as in the knot config. */
  secret: string;
  dir: string;
  /** `kdig` for `name type`: the answer's records as text lines. */
  dig(name: string, type: string): string[];
  /** Runs an update script through `knsupdate` (someone other than zlh editing the zone). */
  nsupdate(lines: string[]): void;
  serial(): number;
  stop(): Promise<void>;
}

function zoneFile(zone: string): string {
  return `$ORIGIN ${zone}.\n$TTL 300\n@ SOA ns.example. hostmaster.example. 1 3600 900 604800 300\n@ NS ns.example.\n`;
}

export async function startKnotd(zone = "zlh.localhost"): Promise<Knotd> {
  const dir = mkdtempSync(join(tmpdir(), "zlh-knotd-"));
  const host = randomLoopback();
  const port = await freePort(host);
  const keyName = "zlh-key";
  const secret = randomBytes(32).toString("base64");
  mkdirSync(join(dir, "db"));
  writeFileSync(join(dir, `${zone}.zone`), zoneFile(zone));
  const conf = join(dir, "knot.conf");
  writeFileSync(
    conf,
    [
      "server:",
      `    rundir: "${dir}"`,
      `    listen: ${host}@${port}`,
      "log:",
      "  - target: stderr",
      "    any: info",
      "database:",
      `    storage: "${join(dir, "db")}"`,
      "key:",
      `  - id: ${keyName}`,
      "    algorithm: hmac-sha256",
      `    secret: ${secret}`,
      "acl:",
      "  - id: zlh",
      "    address: 127.0.0.0/8",
      `    key: ${keyName}`,
      "    action: [update, transfer]",
      "template:",
      "  - id: default",
      `    storage: "${dir}"`,
      '    file: "%s.zone"',
      "zone:",
      `  - domain: ${zone}`,
      "    acl: zlh",
      "",
    ].join("\n"),
  );
  const check = spawnSync("knotc", ["-c", conf, "conf-check"], { encoding: "utf8" });
  if (check.status !== 0) throw new Error(`knotc conf-check failed: ${check.stderr}`);
  const proc: ChildProcess = spawn("knotd", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const key = `hmac-sha256:${keyName}:${secret}`;
  const dig = (name: string, type: string): string[] => {
    const r = spawnSync("kdig", ["-y", key, `@${host}`, "-p", String(port), name, type, "+short", "+retry=0", "+time=2"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`kdig failed: ${r.stdout}${r.stderr}`);
    return r.stdout.split("\n").filter((l) => l.trim() !== "" && !l.startsWith(";;") && !/\sTSIG\s/.test(l));
  };
  const serial = () => Number(dig(zone, "SOA")[0]?.split(" ")[2]);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`knotd exited: ${log}`);
    try {
      if (serial() >= 1) break;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(`knotd did not answer: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    port,
    zone,
    keyName,
    secret,
    dir,
    dig,
    serial,
    nsupdate(lines) {
      const script = [`server ${host} ${port}`, `zone ${zone}.`, ...lines, "send", ""].join("\n");
      const r = spawnSync("knsupdate", ["-y", key], { input: script, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`knsupdate failed: ${r.stdout}${r.stderr}`);
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
