// Stopping an agent means stopping everything it started: the agent runs as the leader of its
// own process group (spawned detached), and the game server and shells it launches stay in
// that group. The agent gets SIGTERM and the grace period to stop its server cleanly; whatever
// is left after that is SIGKILLed.
import type { Clock } from "../../engine/clock.js";
import { liveGroupMembers, readProcStat } from "./proc-stat.js";

export interface StopOptions {
  /** How long the group gets to exit after SIGTERM. */
  graceMs: number;
  clock: Clock;
  pollMs?: number;
}

export interface StopResult {
  /** Processes still alive after the grace period, which were SIGKILLed. */
  killed: number[];
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/**
 * The members of the group led by (leader, leaderStartTime). If another process now holds the
 * leader's pid, the group is gone: Linux never reuses a pid that is still some group's id.
 */
function ourGroup(leader: number, leaderStartTime: number): number[] {
  const holder = readProcStat(leader);
  if (holder && holder.startTime !== leaderStartTime) return [];
  return liveGroupMembers(leader);
}

async function waitUntilEmpty(leader: number, startTime: number, ms: number, opts: StopOptions): Promise<number[]> {
  const deadline = opts.clock.now() + ms;
  for (;;) {
    const left = ourGroup(leader, startTime);
    if (left.length === 0 || opts.clock.now() >= deadline) return left;
    await opts.clock.sleep(Math.min(opts.pollMs ?? 50, Math.max(1, deadline - opts.clock.now())));
  }
}

export async function stopProcessGroup(leader: number, leaderStartTime: number, opts: StopOptions): Promise<StopResult> {
  const members = ourGroup(leader, leaderStartTime);
  if (members.length === 0) return { killed: [] };
  // A group id stays reserved while any member lives, so with members seen just now, -leader
  // reaches exactly our group, including children started after the scan.
  signal(-leader, "SIGTERM");
  const survivors = await waitUntilEmpty(leader, leaderStartTime, opts.graceMs, opts);
  if (survivors.length === 0) return { killed: [] };
  signal(-leader, "SIGKILL");
  await waitUntilEmpty(leader, leaderStartTime, 5_000, opts);
  return { killed: survivors };
}
