// The smoke run of `npm run chaos` that CI runs: a real `zlh server` killed with SIGKILL
// twice (seeded points) while resources are created, updated and deleted, then restarted;
// the providers' state must match the declared state exactly. Counts only, no times.
import { describe, expect, it } from "vitest";
import { planChaos } from "../../harness/chaos-plan.js";
import { runChaos } from "../../harness/chaos-run.js";
import { Rng } from "../../harness/rng.js";

const size = { kills: 2, creates: 3, updates: 2, deletes: 1, maxLive: 3, seed: 1 };

describe("npm run chaos (smoke size)", () => {
  it("plans the same operations from the same seed, never more than maxLive alive", () => {
    const a = planChaos(new Rng(5), { ...size, creates: 30, updates: 10, deletes: 28 });
    const b = planChaos(new Rng(5), { ...size, creates: 30, updates: 10, deletes: 28 });
    expect(a.ops).toEqual(b.ops);
    expect([...a.kills.values()].flat()).toHaveLength(2);
    let live = 0;
    for (const op of a.ops) {
      live += op.op === "create" ? 1 : op.op === "delete" ? -1 : 0;
      expect(live).toBeLessThanOrEqual(3);
    }
    expect(a.declared.size).toBe(2);
    expect(a.ops.filter((o) => o.op === "create")).toHaveLength(30);
    expect(a.ops.filter((o) => o.op === "update")).toHaveLength(10);
  });

  it("leaves no orphan, no duplicate, nothing unconverged and no lost update after kill -9 and restart", async () => {
    const f = await runChaos(size);
    expect(f.findings).toEqual([]);
    expect({ kills: f.kills, orphans: f.orphans, duplicates: f.duplicates, notConverged: f.notConverged, lostUpdates: f.lostUpdates })
      .toEqual({ kills: 2, orphans: 0, duplicates: 0, notConverged: 0, lostUpdates: 0 });
    expect(f.declared).toBe(2);
  }, 300_000);
});
