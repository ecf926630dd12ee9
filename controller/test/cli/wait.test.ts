import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/engine/clock.js";
import type { ResourceClient } from "../../src/cli/resource-client.js";
import type { ResourceObject } from "../../src/cli/resource-rows.js";
import { POLL_INTERVAL_MS, waitForDeletion, waitForRunning } from "../../src/cli/wait.js";
import { captureIO } from "./fixtures.js";

/** A client whose `get` answers from a script the test advances. */
function scriptedClient(states: (ResourceObject | undefined)[]): { client: ResourceClient; calls: () => number } {
  let i = 0;
  const client = {
    get: async () => states[Math.min(i++, states.length - 1)],
  } as unknown as ResourceClient;
  return { client, calls: () => i };
}

const gs = (phase: string | undefined, extra: Partial<ResourceObject> = {}): ResourceObject =>
  ({ kind: "GameServer", metadata: { name: "mc1", generation: 1 }, status: phase ? { phase, observedGeneration: 1 } : undefined, ...extra }) as ResourceObject;

const target = [{ kind: "GameServer" as const, namespace: "default", name: "mc1" }];

/** Advances the fake clock poll by poll, then returns the wait's error (undefined on success). */
async function settle(clock: FakeClock, p: Promise<void>, steps: number): Promise<Error | undefined> {
  // Observed at once, so a rejection between steps is never "unhandled".
  const outcome = p.then(() => undefined, (e: Error) => e);
  for (let s = 0; s < steps; s++) await clock.advanceAsync(POLL_INTERVAL_MS);
  return outcome;
}

describe("waitForRunning", () => {
  it("prints each phase change once and returns when Running", async () => {
    const clock = new FakeClock();
    const io = captureIO({ clock });
    const { client } = scriptedClient([gs(undefined), gs("Provisioning"), gs("Provisioning"), gs("Running")]);
    const p = waitForRunning(client, target, 60_000, io);
    expect(await settle(clock, p, 5)).toBeUndefined();
    expect(io.stdout).toEqual([
      "gameserver.zerolaghub.dev/mc1 Pending",
      "gameserver.zerolaghub.dev/mc1 Provisioning",
      "gameserver.zerolaghub.dev/mc1 Running",
    ]);
  });

  it("does not count Running from an older generation", async () => {
    const clock = new FakeClock();
    const io = captureIO({ clock });
    const stale = gs("Running", { metadata: { name: "mc1", generation: 2 } });
    const { client, calls } = scriptedClient([stale, stale, gs("Running", { metadata: { name: "mc1", generation: 2 }, status: { phase: "Running", observedGeneration: 2 } })]);
    const p = waitForRunning(client, target, 60_000, io);
    expect(await settle(clock, p, 4)).toBeUndefined();
    expect(calls()).toBe(3);
  });

  it("does not fail on an Error from before the apply, and waits for the new generation", async () => {
    const clock = new FakeClock();
    const io = captureIO({ clock });
    const old = { phase: "Error" as const, observedGeneration: 1, provisioningError: "bad command" };
    const meta = { name: "mc1", generation: 2 };
    const { client, calls } = scriptedClient([gs("Error", { metadata: meta, status: old }), gs("Error", { metadata: meta, status: old }), gs("Running", { metadata: meta, status: { phase: "Running", observedGeneration: 2 } })]);
    const p = waitForRunning(client, target, 60_000, io);
    expect(await settle(clock, p, 4)).toBeUndefined();
    expect(calls()).toBe(3);
    expect(io.stdout.at(-1)).toBe("gameserver.zerolaghub.dev/mc1 Running");
  });

  it("fails with the provisioning error when the phase turns Error", async () => {
    const clock = new FakeClock();
    const io = captureIO({ clock });
    const { client } = scriptedClient([gs("Installing"), gs("Error", { status: { phase: "Error", provisioningError: "runtime download failed" } })]);
    const p = waitForRunning(client, target, 60_000, io);
    expect((await settle(clock, p, 3))?.message).toBe("gameserver.zerolaghub.dev/mc1 failed: runtime download failed");
  });

  it("times out on the injected clock, naming what it was still waiting for", async () => {
    const clock = new FakeClock();
    const io = captureIO({ clock });
    const { client } = scriptedClient([gs("Starting")]);
    const p = waitForRunning(client, target, 5_000, io);
    expect((await settle(clock, p, 7))?.message).toBe("timed out waiting for gameserver.zerolaghub.dev/mc1 (Starting) to be Running");
  });
});

describe("waitForDeletion", () => {
  it("prints deleted once the object answers 404", async () => {
    const clock = new FakeClock();
    const io = captureIO({ clock });
    const { client } = scriptedClient([gs("Terminating"), undefined]);
    const p = waitForDeletion(client, target, 60_000, io);
    expect(await settle(clock, p, 2)).toBeUndefined();
    expect(io.stdout).toEqual(["gameserver.zerolaghub.dev/mc1 deleted"]);
  });

  it("says on stderr what it is waiting on, once per change", async () => {
    const clock = new FakeClock();
    const io = captureIO({ clock });
    const held = gs("Terminating", { metadata: { name: "mc1", finalizers: ["zerolaghub.dev/cleanup"] } });
    const { client } = scriptedClient([held, held, held, gs("Terminating"), undefined]);
    const p = waitForDeletion(client, target, 60_000, io);
    expect(await settle(clock, p, 6)).toBeUndefined();
    expect(io.stderr).toEqual([
      "waiting for gameserver.zerolaghub.dev/mc1 to go: Terminating, finalizers: zerolaghub.dev/cleanup",
      "waiting for gameserver.zerolaghub.dev/mc1 to go: Terminating",
    ]);
  });

  it("times out naming the finalizers that hold the object", async () => {
    const clock = new FakeClock();
    const io = captureIO({ clock });
    const { client } = scriptedClient([gs("Terminating", { metadata: { name: "mc1", finalizers: ["zerolaghub.dev/cleanup"] } })]);
    const p = waitForDeletion(client, target, 3_000, io);
    expect((await settle(clock, p, 5))?.message).toBe("timed out waiting for deletion of gameserver.zerolaghub.dev/mc1 (finalizers: zerolaghub.dev/cleanup)");
  });
});
