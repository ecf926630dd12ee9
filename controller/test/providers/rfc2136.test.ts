// The RFC 2136 provider against a real knotd started here: the shared DnsProvider contract,
// the ownership registry as another client sees it, TSIG failures and a server that is down.
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Rfc2136DnsProvider } from "../../src/providers/dns/rfc2136.js";
import type { DesiredRecord, DnsRecord } from "../../src/providers/dns/types.js";
import { AutoAdvanceClock } from "../fakes/auto-clock.js";
import { startKnotd, type Knotd } from "../servers/knotd.js";
import { dnsProviderContract } from "./dns-contract.js";
import { rejection } from "./rejection.js";

const MARK = "GameServer/default/mc1/0b6f6a55-1111-4222-8333-944445555666";
const none = { create: [], update: [], delete: [] };
const servers: Knotd[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

function rdataText(r: DnsRecord): string {
  return r.type === "TXT" ? JSON.stringify(r.value) : r.type === "CNAME" || r.type === "SRV" ? `${r.value}.` : r.value;
}

async function setup(options: { secret?: string; logger?: pino.Logger } = {}) {
  const knot = await startKnotd();
  servers.push(knot);
  const clock = new AutoAdvanceClock();
  const provider = new Rfc2136DnsProvider({
    server: { host: knot.host, port: knot.port },
    zone: knot.zone,
    key: { name: knot.keyName, algorithm: "hmac-sha256", secret: Buffer.from(options.secret ?? knot.secret, "base64") },
    clock,
    random: () => 0.5,
    timeoutMs: 5_000,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return { knot, clock, provider };
}

dnsProviderContract("Rfc2136DnsProvider (real knotd)", async () => {
  const { knot, provider } = await setup();
  return {
    provider,
    exclusiveRRsets: true,
    addForeign: async (r) => knot.nsupdate([`update add ${r.name}. ${r.ttl} ${r.type} ${rdataText(r)}`]),
    version: async () => String(knot.serial()),
    breakBackend: async () => {
      await knot.stop();
      return `${knot.host}:${knot.port}: connection refused`;
    },
    cleanup: async () => undefined,
  };
});

const a = (value: string, ttl = 60): DesiredRecord => ({ name: "mc1.zlh.localhost", type: "A", ttl, value, ownerMark: MARK });

describe("Rfc2136DnsProvider", () => {
  it("publishes records other resolvers see, with the owner in a TXT registry beside them", async () => {
    const { knot, provider } = await setup();
    await provider.apply({ ...none, create: [a("10.0.0.1")] });
    expect(knot.dig("mc1.zlh.localhost", "A")).toEqual(["10.0.0.1"]);
    expect(knot.dig("_zlh-owner.mc1.zlh.localhost", "TXT")).toEqual([`"zerolaghub.dev/owner=${MARK} A 10.0.0.1"`]);
    await provider.apply({ ...none, update: [{ from: a("10.0.0.1"), to: a("10.0.0.2") }] });
    expect(knot.dig("mc1.zlh.localhost", "A")).toEqual(["10.0.0.2"]);
    expect(knot.dig("_zlh-owner.mc1.zlh.localhost", "TXT")).toEqual([`"zerolaghub.dev/owner=${MARK} A 10.0.0.2"`]);
    await provider.apply({ ...none, delete: [a("10.0.0.2")] });
    expect(knot.dig("mc1.zlh.localhost", "A")).toEqual([]);
    expect(knot.dig("_zlh-owner.mc1.zlh.localhost", "TXT")).toEqual([]);
  });

  it("refuses, by prerequisite, a record added by hand after it observed the name", async () => {
    const { knot, provider } = await setup();
    // Observed empty; someone adds the A record in between; the update must not join it.
    const real = provider.observe.bind(provider);
    let raced = false;
    provider.observe = async (names) => real(names);
    const origCall = (provider as unknown as { readNames: (n: string[]) => Promise<unknown> }).readNames.bind(provider);
    (provider as unknown as { readNames: (n: string[]) => Promise<unknown> }).readNames = async (n) => {
      const states = await origCall(n);
      if (!raced) {
        raced = true;
        knot.nsupdate(["update add mc1.zlh.localhost. 300 A 10.9.9.9"]);
      }
      return states;
    };
    const err = await rejection(provider.apply({ ...none, create: [a("10.0.0.1")] }));
    expect(err.reason).toBe("Conflict");
    expect(err.message).toContain("10.9.9.9 (not owned by zlh)");
    expect(knot.dig("mc1.zlh.localhost", "A")).toEqual(["10.9.9.9"]);
  });

  it("reports a wrong TSIG secret clearly, without retrying and without the secret", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "debug" }, { write: (l: string) => lines.push(l) });
    const wrong = Buffer.from("not the secret at all, 32 bytes!").toString("base64");
    const { knot, clock, provider } = await setup({ secret: wrong, logger });
    const err = await rejection(provider.apply({ ...none, create: [a("10.0.0.1")] }));
    expect(err.reason).toBe("Unavailable");
    expect(err.message).toContain(`TSIG key ${knot.keyName}`);
    expect(err.message).toMatch(/NOTAUTH/);
    expect(clock.sleeps).toEqual([]);
    for (const text of [err.message, ...lines]) {
      expect(text).not.toContain(wrong);
      expect(text).not.toContain(knot.secret);
    }
    expect(knot.dig("mc1.zlh.localhost", "A")).toEqual([]);
  });

  it("retries a server that is down with backoff, then fails naming it", async () => {
    const { knot, clock, provider } = await setup();
    await knot.stop();
    const err = await rejection(provider.observe(["mc1.zlh.localhost"]));
    expect(err.reason).toBe("Unavailable");
    expect(err.message).toContain(`${knot.host}:${knot.port}: connection refused (gave up after 5 tries)`);
    expect(clock.sleeps.length).toBeGreaterThanOrEqual(4);
  });

  it("keeps a long TXT value intact across 255-octet strings, and lists the zone by AXFR", async () => {
    const { provider } = await setup();
    const long: DesiredRecord = { name: "big.zlh.localhost", type: "TXT", ttl: 60, value: "x".repeat(600), ownerMark: MARK };
    await provider.apply({ ...none, create: [long, a("10.0.0.1")] });
    expect(await provider.observe(["big.zlh.localhost"])).toEqual([long]);
    expect((await provider.listOwned()).sort((x, y) => x.name.localeCompare(y.name))).toEqual([long, a("10.0.0.1")]);
  });
});
