// The DnsProvider contract, run against every implementation (STYLE.md §3).
import { afterEach, describe, expect, it } from "vitest";
import { isProviderError } from "../../src/providers/provider-error.js";
import type { DesiredRecord, DnsProvider, DnsRecord, ObservedRecord } from "../../src/providers/dns/types.js";
import { rejection } from "./rejection.js";

export interface DnsHarness {
  provider: DnsProvider;
  /** Puts a record in place the way someone other than zlh would (no owner mark). */
  addForeign(record: DnsRecord): Promise<void>;
  /** A token that changes whenever the backend is written. */
  version(): Promise<string>;
  /** Makes calls fail; returns text the error message must contain. */
  breakBackend(): Promise<string>;
  /**
   * The provider refuses to create a record into an RRset (name and type) holding foreign
   * records or another owner's (required of providers that offer listAll).
   */
  exclusiveRRsets?: boolean;
  cleanup(): Promise<void>;
}

const MARK = "GameServer/default/mc1/0b6f6a55-1111-4222-8333-944445555666";
const OTHER = "GameServer/default/mc2/1c7a7b66-1111-4222-8333-944445555666";
const a = (value = "127.77.0.100", ttl = 60): DesiredRecord => ({ name: "mc1.zlh.localhost", type: "A", ttl, value, ownerMark: MARK });
const srv: DesiredRecord = {
  name: "_minecraft._tcp.mc1.zlh.localhost",
  type: "SRV",
  ttl: 60,
  value: "0 0 25565 mc1.zlh.localhost",
  ownerMark: MARK,
};
const txt: DesiredRecord = { name: "mc1.zlh.localhost", type: "TXT", ttl: 300, value: 'say "hi"; ok', ownerMark: MARK };
const none = { create: [], update: [], delete: [] };

function sorted(records: ObservedRecord[]): ObservedRecord[] {
  return [...records].sort((x, y) => `${x.name} ${x.type} ${x.value}`.localeCompare(`${y.name} ${y.type} ${y.value}`));
}


export function dnsProviderContract(name: string, make: () => Promise<DnsHarness>): void {
  describe(`${name} satisfies DnsProvider`, () => {
    let h: DnsHarness;
    const setup = async () => {
      h = await make();
      return h.provider;
    };
    afterEach(async () => h?.cleanup());

    it("creates records and observes them with their owner mark", async () => {
      const p = await setup();
      await p.apply({ ...none, create: [a(), srv, txt] });
      expect(sorted(await p.observe(["mc1.zlh.localhost", "_minecraft._tcp.mc1.zlh.localhost"]))).toEqual(sorted([a(), srv, txt]));
    });

    it("observes only the names asked for, matching them case-insensitively", async () => {
      const p = await setup();
      await p.apply({ ...none, create: [a(), srv] });
      expect(await p.observe(["MC1.zlh.localhost."])).toEqual([a()]);
      expect(await p.observe(["other.zlh.localhost"])).toEqual([]);
    });

    it("updates a record in place", async () => {
      const p = await setup();
      await p.apply({ ...none, create: [a()] });
      await p.apply({ ...none, update: [{ from: a(), to: a("127.77.0.101") }] });
      expect(await p.observe(["mc1.zlh.localhost"])).toEqual([a("127.77.0.101")]);
    });

    it("deletes only the records named", async () => {
      const p = await setup();
      await p.apply({ ...none, create: [a(), txt, srv] });
      await p.apply({ ...none, delete: [txt] });
      expect(sorted(await p.observe(["mc1.zlh.localhost", srv.name]))).toEqual(sorted([a(), srv]));
    });

    it("writes once when the same changes are applied twice", async () => {
      const p = await setup();
      const v0 = await h.version();
      await p.apply({ ...none, create: [a(), srv] });
      const v1 = await h.version();
      await p.apply({ ...none, create: [a(), srv] });
      expect(v1).not.toBe(v0);
      expect(await h.version()).toBe(v1);

      await p.apply({ ...none, update: [{ from: a(), to: a("127.77.0.101") }] });
      const v2 = await h.version();
      await p.apply({ ...none, update: [{ from: a(), to: a("127.77.0.101") }] });
      expect(await h.version()).toBe(v2);
      expect(await p.observe(["mc1.zlh.localhost"])).toEqual([a("127.77.0.101")]);
    });

    it("treats deleting a missing record as success without writing", async () => {
      const p = await setup();
      await p.apply({ ...none, create: [srv] });
      const v = await h.version();
      await p.apply({ ...none, delete: [a()] });
      expect(await h.version()).toBe(v);
      expect(await p.listOwned()).toEqual([srv]);
    });

    it("leaves foreign records alone and reports them without an owner mark", async () => {
      const p = await setup();
      const foreignA: DnsRecord = { name: "mc1.zlh.localhost", type: "A", ttl: 300, value: "10.0.0.9" };
      const foreignTxt: DnsRecord = { name: "www.zlh.localhost", type: "TXT", ttl: 300, value: "v=spf1 -all" };
      await h.addForeign(foreignA);
      await h.addForeign(foreignTxt);
      if (h.exclusiveRRsets) {
        // Our A record would join the foreign A RRset: refused as a whole, nothing written.
        const before = await h.version();
        const err = await rejection(p.apply({ ...none, create: [a(), txt] }));
        expect(err.reason).toBe("Conflict");
        expect(err.message).toContain("mc1.zlh.localhost already has a A record 10.0.0.9 (not owned by zlh)");
        expect(await h.version()).toBe(before);
        await p.apply({ ...none, create: [txt] });
        await p.apply({ ...none, update: [{ from: txt, to: { ...txt, ttl: 60 } }] });
        expect(sorted(await p.observe(["mc1.zlh.localhost", "www.zlh.localhost"]))).toEqual(sorted([foreignA, foreignTxt, { ...txt, ttl: 60 }]));
        expect(await p.listOwned()).toEqual([{ ...txt, ttl: 60 }]);
        return;
      }
      await p.apply({ ...none, create: [a(), txt] });
      await p.apply({ ...none, update: [{ from: a(), to: a("127.77.0.101") }], delete: [txt] });
      expect(sorted(await p.observe(["mc1.zlh.localhost", "www.zlh.localhost"]))).toEqual(
        sorted([foreignA, foreignTxt, a("127.77.0.101")]),
      );
      expect(await p.listOwned()).toEqual([a("127.77.0.101")]);
    });

    it("lists every record, ours and foreign, when it offers listAll", async () => {
      const p = await setup();
      if (!p.listAll) return expect(h.exclusiveRRsets ?? false).toBe(false);
      expect(h.exclusiveRRsets).toBe(true);
      const foreign: DnsRecord = { name: "www.zlh.localhost", type: "TXT", ttl: 300, value: "v=spf1 -all" };
      await h.addForeign(foreign);
      await p.apply({ ...none, create: [a(), srv] });
      expect(sorted(await p.listAll())).toEqual(sorted([foreign, a(), srv]));
    });

    it("refuses to create a record someone else already has, naming its owner", async () => {
      const p = await setup();
      await h.addForeign({ name: "mc1.zlh.localhost", type: "A", ttl: 60, value: "127.77.0.100" });
      const err = await rejection(p.apply({ ...none, create: [a()] }));
      expect(err.reason).toBe("Conflict");
      expect(err.message).toContain("mc1.zlh.localhost A 127.77.0.100");
      expect(err.message).toContain("not owned by zlh");
      await p.apply({ ...none, create: [{ ...srv, ownerMark: OTHER }] });
      const e2 = await rejection(p.apply({ ...none, create: [srv] }));
      expect(e2.reason).toBe("Conflict");
      expect(e2.message).toContain(`owned by ${OTHER}`);
    });

    it("refuses a CNAME next to other records at the same name", async () => {
      const p = await setup();
      await p.apply({ ...none, create: [a()] });
      const err = await rejection(
        p.apply({ ...none, create: [{ name: "mc1.zlh.localhost", type: "CNAME", ttl: 60, value: "edge.zlh.localhost", ownerMark: MARK }] }),
      );
      expect(err.reason).toBe("Conflict");
      expect(err.message).toContain("CNAME");
    });

    it("refuses to update a record that is no longer there", async () => {
      const p = await setup();
      const err = await rejection(p.apply({ ...none, update: [{ from: a(), to: a("127.77.0.101") }] }));
      expect(err.reason).toBe("Conflict");
      expect(err.message).toContain("mc1.zlh.localhost A 127.77.0.100");
      expect(await p.listOwned()).toEqual([]);
    });

    it("rejects an invalid record with a message naming it, and writes nothing", async () => {
      const p = await setup();
      const v = await h.version();
      const bad: DesiredRecord = { name: "mc 1.zlh.localhost", type: "A", ttl: 60, value: "127.77.0.100", ownerMark: MARK };
      const err = await rejection(p.apply({ ...none, create: [a(), bad] }));
      expect(isProviderError(err)).toBe(true);
      expect(err.reason).toBe("Invalid");
      expect(err.message).toContain("mc 1.zlh.localhost");
      const e2 = await rejection(p.apply({ ...none, create: [{ ...srv, value: "0 0 99999 mc1.zlh.localhost" }] }));
      expect(e2.message).toContain("port");
      const e3 = await rejection(p.apply({ ...none, create: [{ ...a(), value: "300.1.1.1" }] }));
      expect(e3.message).toContain("IPv4");
      expect(await h.version()).toBe(v);
      expect(await p.listOwned()).toEqual([]);
    });

    it("surfaces backend failures with their message", async () => {
      const p = await setup();
      await p.apply({ ...none, create: [a()] });
      const expected = await h.breakBackend();
      const err = await rejection(p.observe(["mc1.zlh.localhost"]));
      expect(isProviderError(err)).toBe(true);
      expect(err.message).toContain(expected);
      const e2 = await rejection(p.apply({ ...none, create: [srv] }));
      expect(e2.message).toContain(expected);
    });
  });
}
