// Servers of this workload that no pidfile names. Between spawn() returning and
// run/server.pid being renamed into place there is a moment in which an agent killed with
// SIGKILL leaves a server nothing supervises: the next agent would start a second one on
// the same address (EADDRINUSE, while the TCP probe passes against the orphan). Every
// server carries the workload's mark in its environment (workload-identity.ts), so a
// starting agent finds such orphans by that mark and stops their process groups first.
import { readdirSync, readFileSync } from "node:fs";
import { procStat } from "./pidfile.js";

interface Stray {
  pid: number;
  pgrp: number;
}

/** Live processes (not `self`) whose environment holds exactly `name=value`. */
export function markedProcesses(name: string, value: string, self = process.pid): Stray[] {
  const needle = `\0${name}=${value}\0`;
  const found: Stray[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === self) continue;
    try {
      if (!`\0${readFileSync(`/proc/${entry}/environ`, "latin1")}`.includes(needle)) continue;
    } catch {
      continue; // exited meanwhile, or not ours to read
    }
    const st = procStat(Number(entry));
    if (st && st.state !== "Z") found.push({ pid: Number(entry), pgrp: st.pgrp });
  }
  return found;
}

/**
 * Sends SIGKILL to every marked process and its group (never the agent's own group) and
 * returns how many marked processes were alive: 0 means the address is free to take.
 */
export function killMarkedProcesses(name: string, value: string): number {
  const strays = markedProcesses(name, value);
  const ownGroup = procStat(process.pid)?.pgrp;
  for (const s of strays) {
    try {
      // Servers lead their own group (spawned detached): the group takes their children too.
      if (s.pgrp === s.pid && s.pgrp !== ownGroup) process.kill(-s.pgrp, "SIGKILL");
      else process.kill(s.pid, "SIGKILL");
    } catch {
      // Gone already, which is what we want.
    }
  }
  return strays.length;
}
