// The server writes straight into its log file (not through a pipe to the agent), so it
// survives an agent restart; log-line readiness therefore follows the file, like `tail -f`.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { Clock, TimerHandle } from "./clock.js";

const POLL_MS = 250;
const MAX_READ = 1 << 20;
const TAIL_BYTES = 16 * 1024;

export class LogTail {
  private partial = "";
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly file: string,
    private offset: number,
    private readonly clock: Clock,
    private readonly onLine: (line: string) => void,
  ) {
    this.poll();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  private poll(): void {
    if (this.stopped) return;
    try {
      this.readNew();
    } catch {
      // The file may be rotated or not yet exist; the next poll tries again.
    }
    if (!this.stopped) this.timer = this.clock.setTimeout(() => this.poll(), POLL_MS);
  }

  private readNew(): void {
    const size = statSync(this.file).size;
    if (size < this.offset) this.offset = 0; // truncated
    if (size === this.offset) return;
    const fd = openSync(this.file, "r");
    try {
      const buf = Buffer.alloc(Math.min(size - this.offset, MAX_READ));
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const lines = (this.partial + buf.subarray(0, n).toString("utf8")).split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) {
        if (this.stopped) return;
        this.onLine(line.replace(/\r$/, ""));
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** The last `count` lines of `file` (read from its last 16 KiB); [] when it does not exist. */
export function lastLines(file: string, count: number): string[] {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return [];
  }
  try {
    const size = statSync(file).size;
    const len = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString("utf8").split("\n").map((l) => l.replace(/\r$/, ""));
    if (len < size) lines.shift(); // first line is probably cut
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    return lines.slice(-count);
  } finally {
    closeSync(fd);
  }
}
