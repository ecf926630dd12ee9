// The WorkloadProvider contract, run against every implementation (STYLE.md §3).
import { afterEach, describe, expect, it } from "vitest";
import type { Owner } from "../../src/providers/owner.js";
import { isProviderError } from "../../src/providers/provider-error.js";
import type { DesiredWorkload, WorkloadProvider } from "../../src/providers/workload/types.js";
import { rejection } from "./rejection.js";

export interface WorkloadHarness {
  provider: WorkloadProvider;
  /** Kills the workload's agent behind the provider's back; resolves once it is gone. */
  crashAgent(id: string): Promise<void>;
  /** How many agents have been started for this workload so far. */
  agentStarts(id: string): Promise<number>;
  /** Puts something in the backend that is not a zlh workload; returns a check that it is intact. */
  addForeign(): Promise<() => boolean>;
  /**
   * The address a workload created with this vmid must have (it may depend on the backend:
   * the local provider's per-root loopback block, an LXC subnet). Asked after the create.
   */
  expectedIp(vmid: number): Promise<string>;
  /** Makes calls fail; returns text the error message must contain. */
  breakBackend(): Promise<string>;
  cleanup(): Promise<void>;
}

export const mc1: Owner = { kind: "GameServer", namespace: "default", name: "mc1", uid: "0b6f6a55-1111-4222-8333-944445555666" };
export const alice: Owner = { kind: "DevEnvironment", namespace: "team-a", name: "alice", uid: "5d1e2f30-1111-4222-8333-944445555666" };

export function desired(owner: Owner, vmid: number): DesiredWorkload {
  return {
    owner,
    vmid,
    hostname: owner.name,
    resources: { cpu: 2, memoryMiB: 2048, diskGiB: 10 },
    agent: { controllerUrl: "http://127.0.0.1:7443", token: `token-for-${owner.name}` },
  };
}


export function workloadProviderContract(name: string, make: () => Promise<WorkloadHarness>, options: { invalidVmids?: number[] } = {}): void {
  describe(`${name} satisfies WorkloadProvider`, () => {
    let h: WorkloadHarness | undefined;
    const setup = async () => {
      h = await make();
      return h.provider;
    };
    afterEach(async () => {
      await h?.cleanup();
      h = undefined;
    });

    it("creates a running workload with its own address and owner mark", async () => {
      const p = await setup();
      const a = await p.create(desired(mc1, 100));
      expect(a).toMatchObject({
        id: "100-gameserver-default-mc1",
        vmid: 100,
        ip: await h!.expectedIp(100),
        running: true,
        ownerMark: `GameServer/default/mc1/${mc1.uid}`,
      });
      const b = await p.create(desired(alice, 300));
      expect(b.ip).toBe(await h!.expectedIp(300));
      expect(b.ip).not.toBe(a.ip);
    });

    it("finds a workload by its owner's mark and nothing for another owner", async () => {
      const p = await setup();
      const created = await p.create(desired(mc1, 100));
      expect((await p.observe([mc1]))[0]).toEqual(created);
      expect((await p.observe([alice]))[0]).toBeUndefined();
      expect((await p.observe([{ ...mc1, uid: "ffffffff-1111-4222-8333-944445555666" }]))[0]).toBeUndefined();
    });

    it("observes many owners in one call, returning only those that have a workload", async () => {
      const p = await setup();
      const a = await p.create(desired(mc1, 100));
      const b = await p.create(desired(alice, 101));
      const ghost: Owner = { ...mc1, name: "ghost", uid: "eeeeeeee-1111-4222-8333-944445555666" };
      const found = await p.observe([mc1, ghost, alice]);
      expect(found.map((w) => w.id).sort()).toEqual([a.id, b.id].sort());
      expect(await p.observe([])).toEqual([]);
    });

    it("updates limits and the agent's controller URL in place, without a second agent", async () => {
      const p = await setup();
      const w = await p.create(desired(mc1, 100));
      const next = { ...desired(mc1, 100), resources: { cpu: 4, memoryMiB: 4096, diskGiB: 10 }, agent: { controllerUrl: "http://127.0.0.1:7999", token: "token-2" } };
      const updated = await p.update(w.id, next);
      expect(updated).toMatchObject({ id: w.id, vmid: 100, running: true });
      const seen = (await p.observe([mc1]))[0]!;
      if (seen.controllerUrl !== undefined) expect(seen.controllerUrl).toBe("http://127.0.0.1:7999");
      if (seen.resources !== undefined) expect(seen.resources).toEqual({ cpu: 4, memoryMiB: 4096, diskGiB: 10 });
      expect(await h!.agentStarts(w.id)).toBe(1);
      await expect(p.update("999-gameserver-default-nothing", desired(mc1, 999))).rejects.toMatchObject({ reason: "NotFound" });
      await expect(p.update(w.id, desired(alice, 100))).rejects.toMatchObject({ reason: "Conflict" });
    });

    it("lists every workload it created", async () => {
      const p = await setup();
      await p.create(desired(mc1, 100));
      await p.create(desired(alice, 101));
      expect((await p.list()).map((w) => w.id).sort()).toEqual(["100-gameserver-default-mc1", "101-devenvironment-team-a-alice"]);
    });

    it("refuses a second workload for the same owner or on a taken vmid", async () => {
      const p = await setup();
      await p.create(desired(mc1, 100));
      const e1 = await rejection(p.create(desired(mc1, 102)));
      expect(e1.reason).toBe("Conflict");
      expect(e1.message).toContain("100-gameserver-default-mc1");
      const e2 = await rejection(p.create(desired(alice, 100)));
      expect(e2.reason).toBe("Conflict");
      expect(e2.message).toContain("vmid 100");
      expect((await p.list()).length).toBe(1);
    });

    it("leaves a running workload alone when asked to start it", async () => {
      const p = await setup();
      const w = await p.create(desired(mc1, 100));
      expect(await p.start(w.id)).toEqual(w);
      await p.start(w.id);
      expect(await h!.agentStarts(w.id)).toBe(1);
    });

    it("starts the agent again after it died", async () => {
      const p = await setup();
      const w = await p.create(desired(mc1, 100));
      await h!.crashAgent(w.id);
      expect(((await p.observe([mc1]))[0])?.running).toBe(false);
      expect((await p.start(w.id)).running).toBe(true);
      expect(((await p.observe([mc1]))[0])?.running).toBe(true);
      expect(await h!.agentStarts(w.id)).toBe(2);
    });

    it("deletes a workload, and treats deleting a missing one as success", async () => {
      const p = await setup();
      const w = await p.create(desired(mc1, 100));
      const other = await p.create(desired(alice, 101));
      await p.delete(w.id);
      expect((await p.observe([mc1]))[0]).toBeUndefined();
      expect(await p.list()).toEqual([other]);
      await p.delete(w.id);
      await p.delete("999-gameserver-default-nothing");
    });

    it("reports starting a missing workload as NotFound", async () => {
      const p = await setup();
      await expect(p.start("999-gameserver-default-nothing")).rejects.toMatchObject({ reason: "NotFound" });
    });

    it.each(options.invalidVmids ?? [0, 65536, 1.5])("refuses vmid %d, which the backend cannot use", async (vmid) => {
      const p = await setup();
      const err = await rejection(p.create(desired(mc1, vmid)));
      expect(err.reason).toBe("Invalid");
      expect(err.message).toContain(`vmid ${vmid}`);
      expect(await p.list()).toEqual([]);
    });

    it.each(["../etc", "100-gameserver-default-mc1/../../x", "100-pod-default-x", ""])("refuses the id %j", async (id) => {
      const p = await setup();
      await expect(p.start(id)).rejects.toMatchObject({ reason: "Invalid" });
      await expect(p.delete(id)).rejects.toMatchObject({ reason: "Invalid" });
    });

    it("leaves things that are not its workloads alone", async () => {
      const p = await setup();
      const intact = await h!.addForeign();
      const w = await p.create(desired(mc1, 100));
      expect((await p.list()).map((x) => x.id)).toEqual([w.id]);
      await p.delete(w.id);
      expect(intact()).toBe(true);
    });

    it("surfaces backend failures with their message", async () => {
      const p = await setup();
      const expected = await h!.breakBackend();
      const err = await rejection(p.list());
      expect(isProviderError(err)).toBe(true);
      expect(err.message).toContain(expected);
      await expect(p.create(desired(mc1, 100))).rejects.toThrow(expected);
    });
  });
}
