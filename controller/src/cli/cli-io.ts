// Everything a command touches outside its arguments, passed in so tests can run commands
// in-process and read what they printed.
import type { Clock } from "../engine/clock.js";

export interface CliIO {
  /** One line to stdout (no trailing newline). */
  out(line: string): void;
  /** One line to stderr (no trailing newline). */
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** Aborted on Ctrl-C / SIGTERM: ends `get -w`, waits and `server`. */
  signal: AbortSignal;
}

/** Splits multi-line text so every line goes through `out`. */
export function printBlock(write: (line: string) => void, text: string): void {
  if (text === "") return;
  for (const line of text.replace(/\n$/, "").split("\n")) write(line);
}
