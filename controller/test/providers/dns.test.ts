import { appendFileSync, chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileDnsProvider } from "../../src/providers/dns/file.js";
import { MemoryDnsProvider } from "../../src/providers/dns/memory.js";
import type { DesiredRecord, DnsRecord } from "../../src/providers/dns/types.js";
import { quoteTxt } from "../../src/providers/dns/zone-file.js";
import { dnsProviderContract } from "./dns-contract.js";
import { tempDir } from "./temp-dir.js";

const ZONE = "zlh.localhost";
const MARK = "GameServer/default/mc1/0b6f6a55-1111-4222-8333-944445555666";
const none = { create: [], update: [], delete: [] };

function presentation(r: DnsRecord): string {
  const rdata = r.type === "TXT" ? quoteTxt(r.value) : r.type === "CNAME" ? `${r.value}.` : r.value;
  return `${r.name}. ${r.ttl} IN ${r.type} ${rdata}`;
}

function fileVersion(path: string): string {
  const s = statSync(path, { bigint: true, throwIfNoEntry: false });
  return s ? `${s.ino}:${s.mtimeNs}:${s.size}` : "absent";
}

dnsProviderContract("MemoryDnsProvider", async () => {
  const provider = new MemoryDnsProvider({ zone: ZONE });
  return {
    provider,
    addForeign: async (r) => provider.seed([r]),
    version: async () => String(provider.writes),
    breakBackend: async () => {
      provider.setFailing("dns api down");
      return "dns api down";
    },
    exclusiveRRsets: true,
    cleanup: async () => undefined,
  };
});

dnsProviderContract("FileDnsProvider", async () => {
  const path = join(tempDir("dns"), "records.zone");
  return {
    provider: new FileDnsProvider({ path, zone: ZONE }),
    addForeign: async (r) => appendFileSync(path, presentation(r) + "\n"),
    version: async () => fileVersion(path),
    breakBackend: async () => {
      appendFileSync(path, "broken.zlh.localhost. 60 IN A not-an-address\n");
      const line = readFileSync(path, "utf8").trimEnd().split("\n").length;
      return `${path}:${line}:`;
    },
    exclusiveRRsets: true,
    cleanup: async () => undefined,
  };
});

const a = (name: string, value: string): DesiredRecord => ({ name, type: "A", ttl: 60, value, ownerMark: MARK });

describe("FileDnsProvider", () => {
  const HAND_WRITTEN = [
    "; operator notes: keep this",
    "$ORIGIN zlh.localhost.",
    "$TTL 1h",
    "@   IN SOA ns1 hostmaster ( 2024010101 ; serial",
    "        7200 3600 1209600 300 )",
    "www        IN A     10.0.0.5   ; the web box",
    "           IN TXT   \"v=spf1 -all\"",
    "mail 300 IN MX 10 mx.example.com.\r",
    "",
    "ftp\t60\tA\t10.0.0.6",
  ];

  it("keeps hand-written lines byte for byte while it creates, updates and deletes its own", async () => {
    const path = join(tempDir("dns"), "records.zone");
    const original = HAND_WRITTEN.join("\n") + "\n";
    writeFileSync(path, original);
    const p = new FileDnsProvider({ path, zone: ZONE });

    await p.apply({ ...none, create: [a("mc1.zlh.localhost", "127.77.0.100"), a("mc2.zlh.localhost", "127.77.0.101")] });
    await p.apply({ ...none, update: [{ from: a("mc1.zlh.localhost", "127.77.0.100"), to: a("mc1.zlh.localhost", "127.77.0.102") }] });
    await p.apply({ ...none, delete: [a("mc2.zlh.localhost", "127.77.0.101")] });

    const text = readFileSync(path, "utf8");
    const foreign = text.split("\n").filter((l) => !l.includes("zerolaghub.dev/owner="));
    expect(foreign.join("\n")).toBe(original);
    expect(text).toContain(`mc1.zlh.localhost. 60 IN A 127.77.0.102 ; zerolaghub.dev/owner=${MARK}\n`);
    expect(text).not.toContain("mc2.zlh.localhost");
  });

  it("reads hand-written records relative to $ORIGIN and reports them as foreign", async () => {
    const path = join(tempDir("dns"), "records.zone");
    writeFileSync(path, HAND_WRITTEN.join("\n") + "\n");
    const p = new FileDnsProvider({ path, zone: ZONE });
    expect(await p.observe(["www.zlh.localhost", "ftp.zlh.localhost"])).toEqual([
      { name: "www.zlh.localhost", type: "A", ttl: 3600, value: "10.0.0.5" },
      { name: "www.zlh.localhost", type: "TXT", ttl: 3600, value: "v=spf1 -all" },
      { name: "ftp.zlh.localhost", type: "A", ttl: 60, value: "10.0.0.6" },
    ]);
    expect(await p.listOwned()).toEqual([]);
  });

  it("writes SRV records in standard presentation format with the owner comment", async () => {
    const path = join(tempDir("dns"), "records.zone");
    const p = new FileDnsProvider({ path, zone: ZONE });
    await p.apply({
      ...none,
      create: [{ name: "_minecraft._tcp.mc1.zlh.localhost", type: "SRV", ttl: 60, value: "0 5 25565 mc1.zlh.localhost", ownerMark: MARK }],
    });
    expect(readFileSync(path, "utf8").split("\n")).toContain(
      `_minecraft._tcp.mc1.zlh.localhost. 60 IN SRV 0 5 25565 mc1.zlh.localhost. ; zerolaghub.dev/owner=${MARK}`,
    );
  });

  it("loses no update when many applies run at once, even through two instances", async () => {
    const path = join(tempDir("dns"), "records.zone");
    const p1 = new FileDnsProvider({ path, zone: ZONE });
    const p2 = new FileDnsProvider({ path, zone: ZONE });
    const records = Array.from({ length: 40 }, (_, i) => a(`host-${i}.zlh.localhost`, `127.77.1.${i}`));
    await Promise.all(records.map((r, i) => (i % 2 ? p1 : p2).apply({ ...none, create: [r] })));
    expect((await p1.listOwned()).length).toBe(40);
  });

  it("re-reads the file on every call, so an operator's edit is seen and kept", async () => {
    const path = join(tempDir("dns"), "records.zone");
    const p = new FileDnsProvider({ path, zone: ZONE });
    await p.apply({ ...none, create: [a("mc1.zlh.localhost", "127.77.0.100")] });
    appendFileSync(path, "added-by-hand.zlh.localhost. 120 IN A 10.1.1.1\n");
    expect(await p.observe(["added-by-hand.zlh.localhost"])).toEqual([
      { name: "added-by-hand.zlh.localhost", type: "A", ttl: 120, value: "10.1.1.1" },
    ]);
    await p.apply({ ...none, create: [a("mc2.zlh.localhost", "127.77.0.101")] });
    expect(readFileSync(path, "utf8")).toContain("added-by-hand.zlh.localhost. 120 IN A 10.1.1.1\n");
  });

  it("names file and line of a line it cannot parse, and then writes nothing", async () => {
    const path = join(tempDir("dns"), "records.zone");
    writeFileSync(path, "; header\nok.zlh.localhost. 60 IN A 10.0.0.1\nbad.zlh.localhost. 60 IN SRV 0 0 mc1.zlh.localhost.\n");
    const before = readFileSync(path, "utf8");
    const p = new FileDnsProvider({ path, zone: ZONE });
    await expect(p.observe(["ok.zlh.localhost"])).rejects.toMatchObject({ reason: "ParseError", message: expect.stringContaining(`${path}:3:`) });
    await expect(p.apply({ ...none, create: [a("mc1.zlh.localhost", "127.77.0.100")] })).rejects.toThrow(`${path}:3:`);
    expect(readFileSync(path, "utf8")).toBe(before);
  });

  it("replaces the file by rename, keeps its permissions and leaves no temporary file", async () => {
    const dir = tempDir("dns");
    const path = join(dir, "records.zone");
    writeFileSync(path, "; mine\n");
    chmodSync(path, 0o600);
    const inode = statSync(path).ino;
    await new FileDnsProvider({ path, zone: ZONE }).apply({ ...none, create: [a("mc1.zlh.localhost", "127.77.0.100")] });
    expect(statSync(path).ino).not.toBe(inode);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(["records.zone"]);
  });

  it("creates the file and its directory on the first write, with a header saying which lines it manages", async () => {
    const path = join(tempDir("dns"), "nested", "dns", "records.zone");
    const p = new FileDnsProvider({ path, zone: ZONE });
    expect(await p.observe(["mc1.zlh.localhost"])).toEqual([]);
    await p.apply({ ...none, create: [a("mc1.zlh.localhost", "127.77.0.100")] });
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines[0]).toMatch(/^; zlh DNS records/);
    expect(await p.listOwned()).toEqual([a("mc1.zlh.localhost", "127.77.0.100")]);
  });

  it("refuses records outside its zone", async () => {
    const path = join(tempDir("dns"), "records.zone");
    const p = new FileDnsProvider({ path, zone: ZONE });
    await expect(p.apply({ ...none, create: [a("mc1.example.com", "127.77.0.100")] })).rejects.toMatchObject({
      reason: "Invalid",
      message: expect.stringContaining("outside zone zlh.localhost"),
    });
  });
});
