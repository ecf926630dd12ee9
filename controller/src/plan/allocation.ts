// Pure id and port allocation: the lowest free number in a range.
export interface Range {
  from: number;
  to: number;
}

export function lowestFree(used: { has(n: number): boolean }, range: Range): number | undefined {
  for (let n = range.from; n <= range.to; n++) if (!used.has(n)) return n;
  return undefined;
}
