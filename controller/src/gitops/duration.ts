// Go-style durations as Flux's `interval` takes them: 30s, 5m, 1h30m, 500ms.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/([0-9]+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) throw new Error(`invalid duration ${JSON.stringify(text)} (use e.g. 30s, 5m, 1h30m)`);
  // A Sync may not run more often than once a second, whatever it asks for.
  return Math.max(1000, parts.reduce((ms, p) => ms + Number(p[1]) * UNIT_MS[p[2]!]!, 0));
}
