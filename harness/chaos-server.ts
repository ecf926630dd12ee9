// One `zlh server` process (API server, controller, local providers) on a data directory
// that the chaos harness kills with SIGKILL and starts again, as crash-restart.test.ts does.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const repo = join(import.meta.dirname, "..");

export interface ServerHandle {
  child: ChildProcess;
  url: string;
  token: string;
}

export async function startServer(dir: string, generation: number, timeoutMs = 60_000): Promise<ServerHandle> {
  const data = join(dir, "data");
  const info = join(data, "server.json");
  rmSync(info, { force: true });
  const out = openSync(join(dir, `server-${generation}.log`), "w");
  const child = spawn(process.execPath, [join(repo, "bin/zlh.mjs"), "server", "--data-dir", data, "--listen", "127.0.0.1:0", "--config", join(dir, "config.yaml"), "--log-level", "warn"], { stdio: ["ignore", out, out] });
  const exited = new Promise<never>((_, reject) => child.once("exit", (code, signal) => reject(new Error(`zlh server exited (${code ?? signal}) before it was up; see ${dir}/server-${generation}.log`))));
  exited.catch(() => {});
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(info)) {
      const { url, pid } = JSON.parse(readFileSync(info, "utf8")) as { url: string; pid: number };
      if (pid === child.pid) return { child, url, token: readFileSync(join(data, "admin.token"), "utf8").trim() };
    }
    if (child.exitCode !== null || child.signalCode !== null) await exited;
    if (Date.now() > deadline) throw new Error(`zlh server did not start within ${timeoutMs} ms; see ${dir}/server-${generation}.log`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function killServer(s: ServerHandle): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const gone = new Promise((r) => s.child.once("exit", r));
  s.child.kill("SIGKILL");
  await gone;
}
