// A pid alone cannot identify a process across an agent restart: the kernel reuses pids.
// The pair (pid, start time from /proc/<pid>/stat) can, so a restarted agent reattaches to
// its live server and never mistakes an unrelated process for it.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface PidRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot), as text. */
  startTime: string;
  /** Size of the log file when the server started: where a reattached log-line probe reads from. */
  logOffset?: number;
  /** metadata.generation of the spec the server was started with. */
  generation?: number;
}

export interface PidStore {
  read(): PidRecord | undefined;
  write(record: PidRecord): void;
  remove(): void;
}

/** Fields of /proc/<pid>/stat the agent uses, or undefined when `pid` does not exist. */
export function procStat(pid: number): { state: string; pgrp: number; startTime: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // `rest` starts at field 3 (state); field 5 is the process group, field 22 the start time.
  const pgrp = Number(rest[5 - 3]);
  const startTime = rest[22 - 3];
  return rest[0] && Number.isFinite(pgrp) && startTime !== undefined ? { state: rest[0], pgrp, startTime } : undefined;
}

/** Start time of `pid`, or undefined when it does not exist (or /proc is not available). */
export function processStartTime(pid: number): string | undefined {
  const stat = procStat(pid);
  // A zombie has exited and is not a live server.
  return stat && stat.state !== "Z" ? stat.startTime : undefined;
}

export class PidFile implements PidStore {
  constructor(readonly path: string) {}

  read(): PidRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch {
      return undefined;
    }
    try {
      const r = JSON.parse(text) as Partial<PidRecord>;
      if (Number.isInteger(r.pid) && (r.pid as number) > 0 && typeof r.startTime === "string") return r as PidRecord;
    } catch {
      // A torn or hand-edited file is treated as absent: starting a server is the safe side.
    }
    return undefined;
  }

  write(record: PidRecord): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(record) + "\n");
    renameSync(tmp, this.path);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}
