// What the providers of a local `zlh server` actually hold, read from the machine, not from
// the API: workload directories, agent and server processes (with the environment the
// server runs with), Traefik files and DNS records. The chaos harness compares it with
// what was declared.
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

export interface ProviderState {
  /** Resource name → workload directories. */
  workloads: Map<string, number>;
  /** Resource name → agent processes. */
  agents: Map<string, number>;
  /** Resource name → the GEN values of its running server processes. */
  servers: Map<string, string[]>;
  /** Resource name → Traefik files. */
  routes: Map<string, number>;
  /** Resource name → A records. */
  records: Map<string, number>;
}

const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

// Workload ids are `<vmid>-gameserver-<namespace>-<name>`; the harness uses namespace `default`.
function nameOfWorkload(id: string): string | undefined {
  const m = /^\d+-gameserver-default-(.+)$/.exec(id);
  return m?.[1];
}

function processes(workloadRoot: string, state: ProviderState): void {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const env = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmd.startsWith("bwrap\0")) continue;
      const root = env.find((e) => e.startsWith("ZLH_ROOT="))?.slice(9);
      const where = root ?? readlinkSync(`/proc/${entry}/cwd`);
      if (!where.startsWith(workloadRoot + "/")) continue;
      const name = nameOfWorkload(where.slice(workloadRoot.length + 1).split("/")[0]!);
      if (!name) continue;
      if (cmd.includes("zlh-agent.mjs")) bump(state.agents, name);
      else if (env.some((e) => e.startsWith("GEN="))) {
        // The sandbox's init has no GEN; the server process does (spec.env).
        state.servers.set(name, [...(state.servers.get(name) ?? []), env.find((e) => e.startsWith("GEN="))!.slice(4)]);
      }
    } catch {
      // gone, or not ours to read
    }
  }
}

export function readProviderState(dataDir: string, zone: string): ProviderState {
  const state: ProviderState = { workloads: new Map(), agents: new Map(), servers: new Map(), routes: new Map(), records: new Map() };
  const workloadRoot = join(dataDir, "workloads");
  if (existsSync(workloadRoot)) {
    for (const id of readdirSync(workloadRoot)) {
      const name = nameOfWorkload(id);
      if (name) bump(state.workloads, name);
    }
  }
  processes(workloadRoot, state);
  const traefik = join(dataDir, "traefik");
  if (existsSync(traefik)) {
    for (const f of readdirSync(traefik)) {
      const m = /^zlh-gameserver_default_(.+)\.yaml$/.exec(f);
      if (m) bump(state.routes, m[1]!);
    }
  }
  const zoneFile = join(dataDir, "dns/records.zone");
  if (existsSync(zoneFile)) {
    const re = new RegExp(`^([a-z0-9-]+)\\.${zone.replace(/\./g, "\\.")}\\. .* IN A `, "gm");
    for (const m of readFileSync(zoneFile, "utf8").matchAll(re)) bump(state.records, m[1]!);
  }
  return state;
}
