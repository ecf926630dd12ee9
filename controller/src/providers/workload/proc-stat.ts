// Process identity from /proc. A pid alone is not an identity: after the agent exits the kernel
// may hand its pid to any new process. The pair (pid, start time in clock ticks since boot,
// /proc/<pid>/stat field 22) is unique for the life of the machine.
import { readdirSync, readFileSync } from "node:fs";

export interface ProcStat {
  pid: number;
  /** R, S, D, Z, T… */
  state: string;
  /** Process group id (field 5). */
  pgrp: number;
  /** Start time in clock ticks since boot (field 22). */
  startTime: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // Field 2 (comm) is parenthesised and may itself contain spaces and ')'.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = rest[0];
  const pgrp = Number(rest[5 - 3]);
  const startTime = Number(rest[22 - 3]);
  if (!state || !Number.isFinite(pgrp) || !Number.isFinite(startTime)) return undefined;
  return { pid, state, pgrp, startTime };
}

/** Start time of a live (non-zombie) process, or undefined. */
export function processStartTime(pid: number): number | undefined {
  const s = readProcStat(pid);
  return s && s.state !== "Z" ? s.startTime : undefined;
}

/** True when `pid` is alive and is the very process that started at `startTime`. */
export function isSameProcess(pid: number, startTime: number): boolean {
  return processStartTime(pid) === startTime;
}

/** Live processes whose process group is `pgid`. */
export function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readProcStat(Number(entry));
    if (s && s.pgrp === pgid && s.state !== "Z") members.push(s.pid);
  }
  return members;
}

/**
 * Live processes whose environment holds exactly `name=value`. Used to find an agent the
 * marker does not name (the controller died between spawning it and recording its pid).
 */
export function processesWithEnv(name: string, value: string): ProcStat[] {
  const needle = `\0${name}=${value}\0`;
  const found: ProcStat[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!`\0${readFileSync(`/proc/${entry}/environ`, "latin1")}`.includes(needle)) continue;
    } catch {
      continue; // exited meanwhile, or not readable
    }
    const stat = readProcStat(Number(entry));
    if (stat && stat.state !== "Z") found.push(stat);
  }
  return found;
}
