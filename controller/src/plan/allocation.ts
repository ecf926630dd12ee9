// Pure id and port allocation: the lowest free number in a range.
export interface Range {
  from: number;
  to: number;
}

export function lowestFree(used: { has(n: number): boolean }, range: Range): number | undefined {
  for (let n = range.from; n <= range.to; n++) if (!used.has(n)) return n;
  return undefined;
}

/**
 * The lowest free number of a range in amortized O(log n), where `lowestFree` scans from
 * the start (3.3 s at 10,000 resources). Numbers below a high-water mark that became free
 * again sit in a min-heap; the mark only moves up, past numbers in use. The heap may hold
 * numbers taken again since (lazy deletion): `used` is the truth, asked on every look.
 */
export class FreeNumbers {
  private mark: number;
  private readonly freed: number[] = [];

  constructor(private readonly range: Range, private readonly used: { has(n: number): boolean }) {
    this.mark = range.from;
  }

  /** The lowest number not in use, or undefined when the range is full. Does not take it. */
  lowest(): number | undefined {
    while (this.freed.length > 0 && this.used.has(this.freed[0]!)) this.pop();
    if (this.freed.length > 0) return this.freed[0];
    while (this.mark <= this.range.to && this.used.has(this.mark)) this.mark++;
    return this.mark <= this.range.to ? this.mark : undefined;
  }

  /** Call when `n` stopped being used. */
  released(n: number): void {
    if (n >= this.range.from && n < this.mark) this.push(n);
  }

  private push(n: number): void {
    const h = this.freed;
    h.push(n);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (h[p]! <= h[i]!) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.freed;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]! < h[m]!) m = l;
      if (r < h.length && h[r]! < h[m]!) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
