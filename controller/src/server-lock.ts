// One embedded server per data directory. Two would share one SQLite file but keep two
// resourceVersion counters and watch histories in memory, and both would reconcile. The
// lock file names its holder by pid and process start time, so a lock left by a crashed
// server (or a recycled pid) is recognised as stale and taken over.
import { openSync, readFileSync, rmSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { processStartTime } from "./providers/workload/proc-stat.js";

export class DataDirInUseError extends Error {
  readonly reason = "DataDirInUse";
}

interface LockRecord {
  pid: number;
  startTime: number;
}

export function acquireServerLock(dataDir: string): () => void {
  const path = join(dataDir, "server.lock");
  const me: LockRecord = { pid: process.pid, startTime: processStartTime(process.pid) ?? 0 };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, JSON.stringify(me) + "\n");
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = readHolder(path);
    if (holder && processStartTime(holder.pid) === holder.startTime) {
      throw new DataDirInUseError(`data directory ${dataDir} is in use by another zlh server (pid ${holder.pid})`);
    }
    rmSync(path, { force: true }); // stale: its holder is gone
  }
  throw new DataDirInUseError(`data directory ${dataDir} is being locked by another zlh server starting right now`);
}

function readHolder(path: string): LockRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(path, "utf8")) as Partial<LockRecord>;
    return typeof r.pid === "number" && typeof r.startTime === "number" ? { pid: r.pid, startTime: r.startTime } : undefined;
  } catch {
    return undefined;
  }
}
