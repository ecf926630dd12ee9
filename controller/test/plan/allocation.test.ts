import { describe, expect, it } from "vitest";
import { FreeNumbers, lowestFree } from "../../src/plan/allocation.js";

describe("FreeNumbers", () => {
  it("always answers what a scan from the start of the range answers", () => {
    const range = { from: 100, to: 400 };
    const used = new Set<number>();
    const free = new FreeNumbers(range, used);
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 5000; step++) {
      const r = rand();
      if (r < 0.5) {
        const n = free.lowest();
        expect(n).toBe(lowestFree(used, range));
        if (n !== undefined) used.add(n);
      } else if (r < 0.6) {
        // A number taken out of order (a stored object's status, seen by the informer).
        used.add(100 + Math.floor(rand() * 301));
      } else if (used.size > 0) {
        const all = [...used];
        const n = all[Math.floor(rand() * all.length)]!;
        used.delete(n);
        free.released(n);
      }
    }
    expect(free.lowest()).toBe(lowestFree(used, range));
  });

  it("reports a full range as undefined and hands out a released number again", () => {
    const used = new Set<number>();
    const free = new FreeNumbers({ from: 1, to: 3 }, used);
    for (let i = 0; i < 3; i++) used.add(free.lowest()!);
    expect(free.lowest()).toBeUndefined();
    used.delete(2);
    free.released(2);
    expect(free.lowest()).toBe(2);
  });
});
