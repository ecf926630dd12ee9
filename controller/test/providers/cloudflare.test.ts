import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CloudflareDnsProvider } from "../../src/providers/dns/cloudflare.js";
import type { DesiredRecord } from "../../src/providers/dns/types.js";
import { AutoAdvanceClock } from "../fakes/auto-clock.js";
import { startCloudflareFake, type CloudflareFake } from "../fakes/cloudflare-fake.js";
import { dnsProviderContract } from "./dns-contract.js";
import { rejection } from "./rejection.js";

const ZONE = "zlh.localhost";
const ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353";
const MARK = "GameServer/default/mc1/0b6f6a55-1111-4222-8333-944445555666";
const DEV = "DevEnvironment/team-a/alice/5d1e2f30-1111-4222-8333-944445555666";
const none = { create: [], update: [], delete: [] };

const fakes: CloudflareFake[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

async function setup(o: { perPage?: number; maxPerPage?: number; proxied?: boolean; logger?: pino.Logger } = {}) {
  const fake = await startCloudflareFake({ zoneId: ZONE_ID, zone: ZONE, maxPerPage: o.maxPerPage, maxCommentLength: 500 });
  fakes.push(fake);
  const clock = new AutoAdvanceClock();
  const provider = new CloudflareDnsProvider({ url: fake.url, token: fake.token, zoneId: ZONE_ID, zone: ZONE, clock, random: () => 0.5, perPage: o.perPage, proxied: o.proxied, logger: o.logger });
  return { fake, clock, provider };
}

dnsProviderContract("CloudflareDnsProvider (contract fake)", async () => {
  // Two records per page: every lookup in the contract has to follow pages.
  const { fake, provider } = await setup({ perPage: 2, maxPerPage: 2 });
  return {
    provider,
    addForeign: async (r) => {
      if (r.type === "SRV") {
        const [priority, weight, port, target] = r.value.split(" ").map((x, i) => (i < 3 ? Number(x) : x)) as [number, number, number, string];
        fake.seed({ name: r.name, type: r.type, content: "", ttl: r.ttl, data: { priority, weight, port, target } });
      } else fake.seed({ name: r.name, type: r.type, content: r.value, ttl: r.ttl });
    },
    version: async () => String(fake.writes()),
    breakBackend: async () => {
      // Authentication failures are not retried: the message must reach the operator at once.
      await fake.close();
      const broken = await startCloudflareFake({ zoneId: ZONE_ID, zone: ZONE, token: "another-token" });
      fakes.push(broken);
      (provider as unknown as { client: { baseURL: string } }).client.baseURL = broken.url;
      return "Authentication error (code 10000)";
    },
    cleanup: async () => undefined,
  };
});

const a = (name: string, value: string, ownerMark = MARK): DesiredRecord => ({ name, type: "A", ttl: 60, value, ownerMark });

describe("CloudflareDnsProvider", () => {
  it("looks records up by exact name (and type for writes), following every page", async () => {
    const { fake, provider } = await setup({ perPage: 2, maxPerPage: 2 });
    for (let i = 1; i <= 5; i++) fake.seed({ name: "mc1.zlh.localhost", type: "TXT", content: `foreign ${i}`, ttl: 300 });
    fake.seed({ name: "mc10.zlh.localhost", type: "A", content: "10.0.0.10", ttl: 300 });
    await provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.1")] });
    const seen = await provider.observe(["mc1.zlh.localhost"]);
    expect(seen).toHaveLength(6);
    expect(seen.filter((r) => r.ownerMark === MARK)).toEqual([a("mc1.zlh.localhost", "10.0.0.1")]);
    const lists = fake.requests.filter((r) => r.method === "GET");
    expect(lists.every((r) => r.query.get("name.exact") === "mc1.zlh.localhost")).toBe(true);
    expect(lists.some((r) => r.query.get("search") !== null)).toBe(false);
    const writeLookups = lists.filter((r) => r.query.get("type") === "A");
    expect(writeLookups.length).toBeGreaterThan(0);
    // 6 records at 2 per page: observe read pages 1, 2 and 3.
    expect(lists.filter((r) => r.query.get("type") === null).map((r) => r.query.get("page"))).toEqual(["1", "2", "3"]);
  });

  it("marks ownership in the comment and never sends the token anywhere but the Authorization header", async () => {
    const { fake, provider } = await setup();
    await provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.1")] });
    expect(fake.records()).toEqual([expect.objectContaining({ name: "mc1.zlh.localhost", content: "10.0.0.1", proxied: false, comment: `zerolaghub.dev/owner=${MARK}` })]);
    for (const r of fake.requests) {
      expect(r.headers.authorization).toBe(`Bearer ${fake.token}`);
      expect(r.body + r.query.toString()).not.toContain(fake.token);
    }
  });

  it("waits out a 429 for exactly the Retry-After on the injected clock, then succeeds", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "warn" }, { write: (l: string) => void lines.push(l) });
    const { fake, clock, provider } = await setup({ logger });
    fake.rateLimit({ after: 1, count: 2, retryAfterSeconds: 7 });
    await provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.1")] });
    expect(clock.sleeps).toEqual([7000, 7000]);
    expect(fake.records()).toHaveLength(1);
    expect(lines.map((l) => JSON.parse(l) as { op: string; willRetry: boolean })).toEqual([
      expect.objectContaining({ op: "create", willRetry: true }),
      expect.objectContaining({ op: "create", willRetry: true }),
    ]);
    expect(lines.join("")).not.toContain(fake.token);
  });

  it("fails fast when Cloudflare asks for a longer wait than one call may take", async () => {
    const { fake, clock, provider } = await setup();
    fake.rateLimit({ after: 0, count: 1, retryAfterSeconds: 300 });
    const err = await rejection(provider.observe(["mc1.zlh.localhost"]));
    expect(err).toMatchObject({ reason: "Unavailable" });
    expect(err.message).toContain("asked to wait 300 s");
    expect(clock.sleeps).toEqual([]);
  });

  it("retries 5xx with exponential backoff", async () => {
    const { fake, clock, provider } = await setup();
    fake.failNextHttp(3, 502);
    expect(await provider.observe(["mc1.zlh.localhost"])).toEqual([]);
    expect(clock.sleeps).toEqual([250, 500, 1000]);
  });

  it("deletes only by id of a record carrying our mark, and a stale id (81044) is already gone", async () => {
    const { fake, provider } = await setup();
    await provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.1")] });
    const id = fake.records()[0]!.id;
    fake.tamperBefore("DELETE", /dns_records\//, () => fake.remove(id));
    await provider.apply({ ...none, delete: [a("mc1.zlh.localhost", "10.0.0.1")] });
    expect(fake.requests.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual([`/client/v4/zones/${ZONE_ID}/dns_records/${id}`]);
    expect(fake.records()).toEqual([]);
  });

  it("treats 81058 after a create that raced another writer as success only when the record is exactly ours", async () => {
    const { fake, provider } = await setup();
    const r = a("mc1.zlh.localhost", "10.0.0.1");
    fake.tamperBefore("POST", /dns_records$/, () => fake.seed({ name: r.name, type: "A", content: r.value, ttl: 60, comment: `zerolaghub.dev/owner=${MARK}` }));
    await provider.apply({ ...none, create: [r] });
    expect(fake.records()).toHaveLength(1);

    const other = a("mc2.zlh.localhost", "10.0.0.2");
    fake.tamperBefore("POST", /dns_records$/, () => fake.seed({ name: other.name, type: "A", content: other.value, ttl: 60 }));
    const err = await rejection(provider.apply({ ...none, create: [other] }));
    expect(err).toMatchObject({ reason: "Conflict" });
    expect(err.message).toContain("81057");
  });

  it("proxies DevEnvironment names when configured, never SRV or GameServer records, and keeps their TTL stable", async () => {
    const { fake, provider } = await setup({ proxied: true });
    const dev = a("dev-101.zlh.localhost", "203.0.113.10", DEV);
    const game = a("mc1.zlh.localhost", "203.0.113.10");
    const srv: DesiredRecord = { name: "_minecraft._tcp.mc1.zlh.localhost", type: "SRV", ttl: 60, value: "0 5 30001 mc1.zlh.localhost", ownerMark: MARK };
    await provider.apply({ ...none, create: [dev, game, srv] });
    const byName = Object.fromEntries(fake.records().map((r) => [r.name, r]));
    expect(byName["dev-101.zlh.localhost"]).toMatchObject({ proxied: true, ttl: 1 });
    expect(byName["mc1.zlh.localhost"]).toMatchObject({ proxied: false, ttl: 60 });
    expect(byName["_minecraft._tcp.mc1.zlh.localhost"]).toMatchObject({ proxied: false, data: { priority: 0, weight: 5, port: 30001, target: "mc1.zlh.localhost" } });
    // Read back as written, so a resync plans nothing.
    expect(await provider.observe([dev.name])).toEqual([dev]);
    const writes = fake.writes();
    await provider.apply({ ...none, create: [dev, game, srv] });
    expect(fake.writes()).toBe(writes);
  });

  it("surfaces Cloudflare's validation message as Invalid, naming the record", async () => {
    const { provider } = await setup();
    const long: DesiredRecord = { name: "mc1.zlh.localhost", type: "A", ttl: 30, value: "10.0.0.1", ownerMark: MARK };
    const err = await rejection(provider.apply({ ...none, create: [long] }));
    expect(err).toMatchObject({ reason: "Invalid" });
    expect(err.message).toContain("mc1.zlh.localhost A 10.0.0.1");
    expect(err.message).toContain("code 9021");
  });

  it("leaves seeded foreign records byte for byte unchanged through a full apply/delete cycle", async () => {
    const { fake, provider } = await setup({ perPage: 2, maxPerPage: 2 });
    fake.seed({ name: "mc1.zlh.localhost", type: "TXT", content: "v=spf1 -all", ttl: 300, comment: "managed by hand" });
    fake.seed({ name: "mc1.zlh.localhost", type: "A", content: "10.9.9.9", ttl: 300, tags: ["team:web"] });
    fake.seed({ name: "www.zlh.localhost", type: "CNAME", content: "mc1.zlh.localhost", ttl: 300, proxied: true });
    const before = JSON.stringify(fake.records());
    const srv: DesiredRecord = { name: "_minecraft._tcp.mc1.zlh.localhost", type: "SRV", ttl: 60, value: "0 5 25565 mc1.zlh.localhost", ownerMark: MARK };
    await provider.apply({ ...none, create: [a("mc1.zlh.localhost", "10.0.0.1"), srv] });
    await provider.apply({ ...none, update: [{ from: a("mc1.zlh.localhost", "10.0.0.1"), to: a("mc1.zlh.localhost", "10.0.0.2") }] });
    await provider.apply({ ...none, delete: await provider.listOwned() });
    expect(JSON.stringify(fake.records())).toBe(before);
  });
});
