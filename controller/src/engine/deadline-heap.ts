// Keys with a due time, earliest first: a binary min-heap with lazy deletion. The work
// queue keeps one timer for the earliest delayed key; at 10,000 keys a scan of every
// delayed key per addAfter (what it did before) is quadratic.

interface Entry {
  key: string;
  at: number;
  /** Insertion order breaks ties, so keys due at the same time come out in the order added. */
  seq: number;
}

export class DeadlineHeap {
  private heap: Entry[] = [];
  // The live due time of each key; heap entries that disagree are stale and skipped.
  private readonly due = new Map<string, { at: number; seq: number }>();
  private seq = 0;

  get size(): number {
    return this.due.size;
  }

  has(key: string): boolean {
    return this.due.has(key);
  }

  dueAt(key: string): number | undefined {
    return this.due.get(key)?.at;
  }

  /** Sets (or moves) the due time of `key`. */
  set(key: string, at: number): void {
    const entry = { key, at, seq: this.seq++ };
    this.due.set(key, { at, seq: entry.seq });
    this.push(entry);
    // Stale entries pile up when keys move often: rebuild once they dominate.
    if (this.heap.length > 64 && this.heap.length > 4 * this.due.size) this.rebuild();
  }

  delete(key: string): void {
    this.due.delete(key);
  }

  clear(): void {
    this.heap = [];
    this.due.clear();
  }

  /** Due time of the earliest key, if any. */
  peekAt(): number | undefined {
    this.dropStale();
    return this.heap[0]?.at;
  }

  /** Removes and returns the earliest key if it is due at or before `now`. */
  popDue(now: number): string | undefined {
    this.dropStale();
    const top = this.heap[0];
    if (!top || top.at > now) return undefined;
    this.pop();
    this.due.delete(top.key);
    return top.key;
  }

  private dropStale(): void {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      const live = this.due.get(top.key);
      if (live && live.seq === top.seq) return;
      this.pop();
    }
  }

  private rebuild(): void {
    this.heap = [];
    for (const [key, { at, seq }] of this.due) this.push({ key, at, seq });
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
