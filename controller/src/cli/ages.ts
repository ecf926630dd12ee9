// Durations as people type and read them: `--timeout 5m` in, `3m` in the AGE column out.
import { CliError } from "./cli-error.js";

const units: ReadonlyArray<[suffix: string, ms: number]> = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
];

/** kubectl-style age of a timestamp relative to `nowMs`: `5s`, `3m`, `2h`, `4d`. */
export function formatAge(since: string | Date | undefined, nowMs: number): string {
  if (since === undefined) return "<unknown>";
  const t = since instanceof Date ? since.getTime() : Date.parse(since);
  if (Number.isNaN(t)) return "<unknown>";
  return formatDuration(nowMs - t);
}

/** Largest whole unit that fits; clock skew between machines must not print a negative age. */
export function formatDuration(ms: number): string {
  const clamped = Math.max(0, ms);
  for (const [suffix, size] of units) {
    if (clamped >= size) return `${Math.floor(clamped / size)}${suffix}`;
  }
  return "0s";
}

/** Parses `90s`, `5m`, `1h30m`, `2d` or a bare number of seconds into milliseconds. */
export function parseDuration(text: string, flag = "--timeout"): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const re = /(\d+)(ms|d|h|m|s)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(trimmed); m; m = re.exec(trimmed)) {
    const n = Number(m[1]);
    total += m[2] === "ms" ? n : n * units.find(([s]) => s === m![2])![1];
    end = re.lastIndex;
  }
  if (trimmed === "" || end !== trimmed.length) {
    throw new CliError("InvalidArgument", `${flag}: "${text}" is not a duration (examples: 30s, 5m, 1h30m)`);
  }
  return total;
}
