// Deleting a local workload the way deleting a container works: every process of it dies,
// then its directory goes, and a directory that cannot be removed stays marked (so the
// workload is still listed and the delete is retried) instead of leaking unmarked.
import { readdirSync, readFileSync, rmSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Clock } from "../../engine/clock.js";
import { writeFileAtomic } from "../atomic-write.js";
import { ioError } from "../provider-error.js";
import { stopProcessGroup } from "./process-group.js";
import { processesWithEnv, readProcStat } from "./proc-stat.js";

/** Set on the agent by the provider. */
export const AGENT_MARK_VARIABLE = "ZLH_ROOT";
/** Set by the agent on every workload process it starts (agent/src/workload-identity.ts). */
export const WORKLOAD_MARK_VARIABLE = "ZLH_WORKLOAD_ROOT";

export interface TeardownOptions {
  graceMs: number;
  clock: Clock;
  logger?: Logger;
}

/** `{pid, startTime}` from each of the agent's pidfiles (`run/<service>.pid`). */
function recordedServices(dir: string): { file: string; pid: number; startTime: number }[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, "run")).filter((n) => n.endsWith(".pid"));
  } catch {
    return [];
  }
  const found = [];
  for (const file of names) {
    try {
      const rec = JSON.parse(readFileSync(join(dir, "run", file), "utf8")) as { pid?: unknown; startTime?: unknown };
      const startTime = Number(rec.startTime);
      if (typeof rec.pid === "number" && Number.isInteger(rec.pid) && rec.pid > 1 && Number.isInteger(startTime)) found.push({ file, pid: rec.pid, startTime });
    } catch {
      // torn or foreign: the environment scan below still finds its process
    }
  }
  return found;
}

/** Every live process carrying this workload's mark: its agents, sandboxes and servers. */
export function workloadProcesses(dir: string): number[] {
  const pids = new Set<number>();
  for (const name of [AGENT_MARK_VARIABLE, WORKLOAD_MARK_VARIABLE]) for (const p of processesWithEnv(name, dir)) pids.add(p.pid);
  return [...pids];
}

/**
 * Stops everything of the workload: the agent's process group gracefully (it stops its
 * services itself within the grace period), then each service a pidfile names, then, with
 * SIGKILL, whatever still carries the workload's mark: an agent the marker never recorded,
 * a server no pidfile names (an agent died between launching and recording it), a
 * sandbox whose init holds processes that left their group. Killing a sandbox's init ends
 * its whole pid namespace.
 */
export async function stopWorkloadProcesses(dir: string, agent: { pid: number; startTime: number } | undefined, o: TeardownOptions): Promise<void> {
  const stop = { graceMs: o.graceMs, clock: o.clock };
  if (agent) {
    o.logger?.info({ dir, pid: agent.pid }, "agent stopping");
    const { killed } = await stopProcessGroup(agent.pid, agent.startTime, stop);
    if (killed.length > 0) o.logger?.warn({ dir, pids: killed }, "agent killed after grace period");
  }
  for (const s of recordedServices(dir)) {
    const { killed } = await stopProcessGroup(s.pid, s.startTime, stop);
    if (killed.length > 0) o.logger?.warn({ dir, pidfile: s.file, pids: killed }, "orphaned service killed");
  }
  const deadline = o.clock.now() + 5_000;
  for (let left = workloadProcesses(dir); left.length > 0; left = workloadProcesses(dir)) {
    if (o.clock.now() > deadline) throw ioError("cannot stop the processes of workload", dir, new Error(`still alive: ${left.join(", ")}`));
    o.logger?.warn({ dir, pids: left }, "unrecorded workload processes killed");
    for (const pid of left) {
      const group = readProcStat(pid)?.pgrp;
      for (const target of group === pid ? [-pid, pid] : [pid]) {
        try {
          process.kill(target, "SIGKILL");
        } catch {
          // gone already
        }
      }
    }
    await o.clock.sleep(20);
  }
}

/**
 * Removes the workload directory, its marker last: if anything in it cannot be removed the
 * marker (and so the workload) stays, and the error says what failed. `markerText` puts the
 * marker back should the now empty directory itself refuse to go.
 */
export function removeWorkloadDir(dir: string, markerFile: string, markerText: string): void {
  try {
    for (const entry of readdirSync(dir)) {
      if (entry !== markerFile) rmSync(join(dir, entry), { recursive: true, force: true });
    }
  } catch (err) {
    throw ioError("cannot remove workload directory", dir, err);
  }
  rmSync(join(dir, markerFile), { force: true });
  try {
    rmdirSync(dir);
  } catch (err) {
    writeFileAtomic(join(dir, markerFile), markerText, { mode: 0o644 });
    throw ioError("cannot remove workload directory", dir, err);
  }
}
