// The technitium and cloudflare config sections, end to end: the loader parses them, the
// registry makes the providers, and the providers reach their fakes with the token from the
// file — read again on every call, so a rotated token file is used without a restart.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import type { DesiredRecord } from "../../src/providers/dns/types.js";
import { buildProviders } from "../../src/server-main.js";
import { startCloudflareFake } from "../fakes/cloudflare-fake.js";
import { startTechnitiumFake } from "../fakes/technitium-fake.js";
import { tempDir } from "./temp-dir.js";

const ZONE = "zlh.localhost";
const ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353";
const MARK = "GameServer/default/mc1/0b6f6a55-1111-4222-8333-944445555666";
const record = (name: string, value: string): DesiredRecord => ({ name, type: "A", ttl: 60, value, ownerMark: MARK });
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe("technitium and cloudflare config sections", () => {
  it("make providers that use the token file, re-read on every call", async () => {
    const tech = await startTechnitiumFake({ zones: [ZONE], token: "tech-token-one" });
    const cf = await startCloudflareFake({ zoneId: ZONE_ID, zone: ZONE, token: "cf-token-one" });
    closers.push(() => tech.close(), () => cf.close());
    const dir = tempDir("http-dns-config");
    writeFileSync(join(dir, "tech-token"), "tech-token-one\n");
    writeFileSync(join(dir, "cf-token"), "cf-token-one\n");
    const yaml = `apiVersion: zerolaghub.dev/v1alpha1
kind: ControllerConfig
zone: ${ZONE}
providers:
  workload: { type: memory }
  routing: { type: memory }
  dns:
    - { type: technitium, url: "${tech.url}", tokenFile: tech-token, target: workload }
    - { type: cloudflare, url: "${cf.url}", tokenFile: cf-token, zoneId: ${ZONE_ID} }
`;
    writeFileSync(join(dir, "config.yaml"), yaml);
    const config = loadConfig(join(dir, "config.yaml"), join(dir, "data"), {});
    expect(JSON.stringify(config)).not.toContain("token-one");
    const providers = buildProviders(config, pino({ level: "silent" }));
    expect(providers.dns.map((d) => [d.provider.name, d.target])).toEqual([["technitium", "workload"], ["cloudflare", "edge"]]);

    for (const { provider } of providers.dns) await provider.apply({ create: [record(`a.${ZONE}`, "10.0.0.1")], update: [], delete: [] });
    for (const { provider } of providers.dns) expect((await provider.observe([`a.${ZONE}`])).map((r) => [r.value, r.ownerMark])).toEqual([["10.0.0.1", MARK]]);

    // Rotate both tokens: the fakes accept only the new ones, the files hold them.
    writeFileSync(join(dir, "tech-token"), "tech-token-two\n");
    writeFileSync(join(dir, "cf-token"), "cf-token-two\n");
    tech.setToken("tech-token-two");
    cf.setToken("cf-token-two");
    for (const { provider } of providers.dns) expect(await provider.observe([`a.${ZONE}`])).toHaveLength(1);
  });

  it("refuses a section without a token, naming the key", () => {
    const dir = tempDir("http-dns-config");
    writeFileSync(join(dir, "config.yaml"), `apiVersion: zerolaghub.dev/v1alpha1\nkind: ControllerConfig\nproviders:\n  dns:\n    - { type: technitium, url: "http://127.0.0.1:1" }\n`);
    expect(() => loadConfig(join(dir, "config.yaml"), join(dir, "data"), {})).toThrow(/\.providers\.dns\[0\]\.tokenFile: required/);
  });
});
