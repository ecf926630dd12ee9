// The smoke run of `npm run fuzz` that CI runs: a seeded 40 cases (every category four
// times) against a real API server and the in-process `zlh apply`. Counts only, no times.
import { describe, expect, it } from "vitest";
import { CATEGORIES, fuzzCase } from "../../harness/fuzz-cases.js";
import { runFuzz } from "../../harness/fuzz-run.js";
import { Rng } from "../../harness/rng.js";

describe("npm run fuzz (smoke size)", () => {
  it("generates the same cases from the same seed, every category in a small run", () => {
    const a = new Rng(7), b = new Rng(7);
    const cases = Array.from({ length: 30 }, (_, i) => [fuzzCase(a, i), fuzzCase(b, i)] as const);
    for (const [x, y] of cases) expect(JSON.stringify(x)).toBe(JSON.stringify(y));
    expect(new Set(cases.map(([x]) => x.category))).toEqual(new Set(CATEGORIES));
  });

  it("refuses every case: nothing accepted, no 5xx, no hang, no store change, no file written", async () => {
    const f = await runFuzz({ cases: 40, seed: 1 });
    expect(f.findings).toEqual([]);
    expect({ acceptedBad: f.acceptedBad, status5xx: f.status5xx, hangs: f.hangs, storeChanges: f.storeChanges, filesWritten: f.filesWritten, applyCrashes: f.applyCrashes, applyErrorsWithoutFile: f.applyErrorsWithoutFile })
      .toEqual({ acceptedBad: 0, status5xx: 0, hangs: 0, storeChanges: 0, filesWritten: 0, applyCrashes: 0, applyErrorsWithoutFile: 0 });
    // Every case was answered with a refusal: a 4xx from the API, exit 1 from apply.
    expect(f.apiCases).toBeGreaterThan(0);
    expect(f.applyCases).toBeGreaterThan(0);
    expect(f.status4xx + f.applyRefused).toBe(40);
  }, 120_000);
});
