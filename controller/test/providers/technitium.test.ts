import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { TechnitiumDnsProvider } from "../../src/providers/dns/technitium.js";
import type { DesiredRecord, DnsRecord } from "../../src/providers/dns/types.js";
import { AutoAdvanceClock } from "../fakes/auto-clock.js";
import { startTechnitiumFake, type TechnitiumFake } from "../fakes/technitium-fake.js";
import { dnsProviderContract } from "./dns-contract.js";
import { rejection } from "./rejection.js";

const ZONE = "zlh.localhost";
const MARK = "GameServer/default/mc1/0b6f6a55-1111-4222-8333-944445555666";
const none = { create: [], update: [], delete: [] };

function rData(r: DnsRecord): Record<string, unknown> {
  switch (r.type) {
    case "SRV": {
      const [priority, weight, port, target] = r.value.split(" ");
      return { priority: Number(priority), weight: Number(weight), port: Number(port), target };
    }
    case "TXT":
      return { text: r.value, splitText: false, characterStrings: [r.value] };
    case "CNAME":
      return { cname: r.value };
    default:
      return { ipAddress: r.value };
  }
}

const fakes: TechnitiumFake[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

async function setup(options: { logger?: pino.Logger } = {}) {
  const fake = await startTechnitiumFake({ zones: [ZONE, "other.localhost"] });
  fakes.push(fake);
  const clock = new AutoAdvanceClock();
  const provider = new TechnitiumDnsProvider({ url: fake.url, token: fake.token, zone: ZONE, clock, random: () => 0.5, logger: options.logger });
  return { fake, clock, provider };
}

dnsProviderContract("TechnitiumDnsProvider (contract fake)", async () => {
  const { fake, provider } = await setup();
  return {
    provider,
    addForeign: async (r) => fake.seed(ZONE, { name: r.name, type: r.type, ttl: r.ttl, rData: rData(r) }),
    version: async () => String(fake.writes()),
    breakBackend: async () => {
      fake.setFailing("Zone 'zlh.localhost' is disabled.");
      return "Zone 'zlh.localhost' is disabled.";
    },
    cleanup: async () => undefined,
  };
});

const a = (name: string, value: string, ttl = 60): DesiredRecord => ({ name, type: "A", ttl, value, ownerMark: MARK });

describe("TechnitiumDnsProvider", () => {
  it("asks only for the names concerned and never lists the whole zone", async () => {
    const { fake, provider } = await setup();
    await provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.1")] });
    await provider.observe(["mc1.zlh.localhost", "_minecraft._tcp.mc1.zlh.localhost"]);
    await provider.apply({ ...none, delete: [a("mc1.zlh.localhost", "10.0.0.1")] });
    const gets = fake.requests.filter((r) => r.path === "/api/zones/records/get");
    expect(gets.length).toBeGreaterThan(0);
    expect(fake.requests.some((r) => r.params.get("listZone") === "true")).toBe(false);
    expect(new Set(gets.map((r) => r.params.get("domain")))).toEqual(new Set(["mc1.zlh.localhost", "_minecraft._tcp.mc1.zlh.localhost"]));
  });

  it("sends the token only in the Authorization header, and stores the owner mark in comments", async () => {
    const { fake, provider } = await setup();
    await provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.1")] });
    expect(fake.records(ZONE)).toEqual([expect.objectContaining({ name: "mc1.zlh.localhost", type: "A", ttl: 60, comments: `zerolaghub.dev/owner=${MARK}` })]);
    for (const r of fake.requests) {
      expect(r.headers.authorization).toBe(`Bearer ${fake.token}`);
      expect(r.body + r.query.toString()).not.toContain(fake.token);
    }
  });

  it("keeps the TTL when updating (Technitium resets an omitted ttl to 3600)", async () => {
    const { fake, provider } = await setup();
    await provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.1", 120)] });
    await provider.apply({ ...none, update: [{ from: a("mc1.zlh.localhost", "10.0.0.1", 120), to: a("mc1.zlh.localhost", "10.0.0.2", 120) }] });
    expect(fake.records(ZONE).map((r) => [r.rData.ipAddress, r.ttl])).toEqual([["10.0.0.2", 120]]);
    await provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.2", 300)] });
    expect(fake.records(ZONE).map((r) => [r.rData.ipAddress, r.ttl])).toEqual([["10.0.0.2", 300]]);
  });

  it("treats a record deleted behind its back as already deleted", async () => {
    const { fake, provider } = await setup();
    await provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.1")] });
    const stale = (await provider.observe(["mc1.zlh.localhost"]))[0]!;
    // Someone removes it between our read and our delete: Technitium answers "no such record".
    fake.tamperBefore("/api/zones/records/delete", () => fake.removeWhere(ZONE, () => true));
    await provider.apply({ ...none, delete: [stale] });
    const deletes = fake.requests.filter((r) => r.path === "/api/zones/records/delete");
    expect(deletes).toHaveLength(1);
    expect(fake.records(ZONE)).toEqual([]);
  });

  it("turns an HTTP-200 error into a ProviderError naming the record and the server's message", async () => {
    const { fake, provider } = await setup();
    fake.setFailing("Access was denied.");
    const err = await rejection(provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.1")] }));
    expect(err).toMatchObject({ reason: "Unavailable" });
    expect(err.message).toContain("mc1.zlh.localhost");
    expect(err.message).toContain("Access was denied.");
  });

  it("reports a refused token without echoing it", async () => {
    const { fake } = await setup();
    const bad = new TechnitiumDnsProvider({ url: fake.url, token: "wrong-secret-123", zone: ZONE });
    const err = await rejection(bad.observe(["mc1.zlh.localhost"]));
    expect(err.message).toContain("invalid-token");
    expect(err.message).not.toContain("wrong-secret-123");
  });

  it("retries a failing proxy (HTTP 502) with backoff on the injected clock, then succeeds", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "warn" }, { write: (l: string) => void lines.push(l) });
    const { fake, clock, provider } = await setup({ logger });
    fake.failNextHttp(2, 502);
    await provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.1")] });
    expect(clock.sleeps).toEqual([250, 500]);
    expect(fake.records(ZONE)).toHaveLength(1);
    expect(lines).toHaveLength(2);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ provider: "dns/technitium", op: "get", willRetry: true, msg: "provider call failed" });
    expect(lines.join("\n")).not.toContain(fake.token);
  });

  it("gives up after the configured tries and says so", async () => {
    const { fake, clock, provider } = await setup();
    fake.failNextHttp(10, 503);
    const err = await rejection(provider.observe(["mc1.zlh.localhost"]));
    expect(err.message).toMatch(/HTTP 503.*gave up after 5 tries/);
    expect(clock.sleeps).toHaveLength(4);
  });

  it("publishes SRV records with all four fields and reads them back canonically", async () => {
    const { fake, provider } = await setup();
    const srv: DesiredRecord = { name: "_minecraft._tcp.mc1.zlh.localhost", type: "SRV", ttl: 60, value: "0 5 30001 mc1.zlh.localhost", ownerMark: MARK };
    await provider.apply({ ...none, create: [srv] });
    expect(fake.records(ZONE)[0]!.rData).toEqual({ priority: 0, weight: 5, port: 30001, target: "mc1.zlh.localhost" });
    await provider.apply({ ...none, update: [{ from: srv, to: { ...srv, value: "0 5 30002 mc1.zlh.localhost" } }] });
    expect(await provider.observe([srv.name])).toEqual([{ ...srv, value: "0 5 30002 mc1.zlh.localhost" }]);
  });

  it("leaves seeded foreign records byte for byte unchanged through a full apply/delete cycle", async () => {
    const { fake, provider } = await setup();
    fake.seed(ZONE, { name: "mc1.zlh.localhost", type: "TXT", ttl: 300, rData: { text: "keep me", splitText: false, characterStrings: ["keep me"] }, comments: "operator note" });
    fake.seed(ZONE, { name: "www.zlh.localhost", type: "A", ttl: 300, rData: { ipAddress: "10.9.9.9" } });
    fake.seed("other.localhost", { name: "mc1.other.localhost", type: "A", ttl: 60, rData: { ipAddress: "10.0.0.1" } });
    const before = JSON.stringify([fake.records(ZONE), fake.records("other.localhost")]);
    const srv: DesiredRecord = { name: "_minecraft._tcp.mc1.zlh.localhost", type: "SRV", ttl: 60, value: "0 5 25565 mc1.zlh.localhost", ownerMark: MARK };
    await provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.1"), srv] });
    await provider.apply({ ...none, update: [{ from: a("mc1.zlh.localhost", "10.0.0.1"), to: a("mc1.zlh.localhost", "10.0.0.2") }] });
    await provider.apply({ ...none, delete: await provider.listOwned() });
    expect(JSON.stringify([fake.records(ZONE), fake.records("other.localhost")])).toBe(before);
  });
});
