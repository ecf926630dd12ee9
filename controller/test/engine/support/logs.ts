import { pino, type Logger } from "pino";

export type LogLine = Record<string, unknown> & { msg?: string; level: number };

/** A debug-level pino logger whose lines are collected as parsed objects. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}
