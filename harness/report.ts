// What every harness prints and writes: a two-column table of figures on stdout and, with
// `--json FILE`, the same figures as one JSON object (keys fixed by issue 7, more may follow).
import { writeFileSync } from "node:fs";

export type Figures = Record<string, number | string | boolean | Record<string, number>>;

function cell(v: Figures[string]): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (typeof v === "object") return Object.entries(v).map(([k, n]) => `${k}=${n}`).join(" ") || "-";
  return String(v);
}

/** Prints `title`, then one `key  value` row per figure, aligned. */
export function printFigures(title: string, figures: Figures, write: (line: string) => void = (l) => console.log(l)): void {
  write(title);
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  for (const [k, v] of Object.entries(figures)) write(`  ${k.padEnd(width)}  ${cell(v)}`);
}

export function writeJson(file: string | undefined, figures: object): void {
  if (file) writeFileSync(file, JSON.stringify(figures, null, 2) + "\n");
}

export function log(harness: string, msg: string): void {
  process.stderr.write(`[${harness}] ${msg}\n`);
}
