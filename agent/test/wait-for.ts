import { readFileSync } from "node:fs";

// Waits on a condition instead of sleeping: polls until it holds or the deadline passes.
export async function waitFor<T>(what: string, check: () => T | undefined | false, deadlineMs = 15_000, context?: () => string): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${context ? `\n${context()}` : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** True while `pid` runs. A zombie counts as gone: an orphan's reaper may be slow or absent. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
