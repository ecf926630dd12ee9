// The rfc2136 config section: the loader refuses bad keys in one line naming them, and the
// provider it makes updates a real knotd with the secret from the file.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { ConfigError } from "../../src/providers/provider-config.js";
import { buildProviders } from "../../src/server-main.js";
import { startKnotd, type Knotd } from "../servers/knotd.js";
import { tempDir } from "./temp-dir.js";

const MARK = "GameServer/default/mc1/0b6f6a55-1111-4222-8333-944445555666";
const servers: Knotd[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

function config(dir: string, dns: string): string {
  const path = join(dir, "config.yaml");
  writeFileSync(path, `apiVersion: zerolaghub.dev/v1alpha1\nkind: ControllerConfig\nzone: zlh.localhost\nproviders:\n  workload: { type: memory }\n  routing: { type: memory }\n  dns:\n${dns}`);
  return path;
}

function refusal(path: string): string {
  try {
    loadConfig(path, join(path, "..", "data"), {});
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error("expected the config to be refused");
}

describe("rfc2136 config section", () => {
  it("makes a provider that updates knotd with the key from the secret file", async () => {
    const knot = await startKnotd();
    servers.push(knot);
    const dir = tempDir("rfc2136-config");
    writeFileSync(join(dir, "tsig.secret"), `${knot.secret}\n`);
    const path = config(dir, `    type: rfc2136\n    server: ${knot.host}:${knot.port}\n    tsig:\n      name: ${knot.keyName}\n      algorithm: hmac-sha256\n      secretFile: tsig.secret\n`);
    const c = loadConfig(path, join(dir, "data"), {});
    expect(JSON.stringify(c)).not.toContain(knot.secret);
    const [dns] = buildProviders(c, pino({ level: "silent" })).dns;
    await dns!.provider.apply({ create: [{ name: "mc1.zlh.localhost", type: "A", ttl: 60, value: "10.0.0.7", ownerMark: MARK }], update: [], delete: [] });
    expect(knot.dig("mc1.zlh.localhost", "A")).toEqual(["10.0.0.7"]);
  });

  it("refuses a bad server and a secret that is not base64, naming the key", () => {
    const dir = tempDir("rfc2136-config");
    writeFileSync(join(dir, "hex.secret"), "not base64!\n");
    writeFileSync(join(dir, "ok.secret"), "c2VjcmV0\n");
    expect(refusal(config(dir, `    type: rfc2136\n    server: "127.0.0.1:99999"\n    tsig: { name: k, secretFile: ok.secret }\n`))).toMatch(/\.providers\.dns\.server: "127\.0\.0\.1:99999" is not host:port/);
    const bad = refusal(config(dir, `    type: rfc2136\n    server: 127.0.0.1:53\n    tsig: { name: k, secretFile: hex.secret }\n`));
    expect(bad).toMatch(/\.providers\.dns\.tsig\.secretFile: the TSIG secret must be base64/);
    expect(bad).not.toContain("not base64!");
    expect(refusal(config(dir, `    type: rfc2136\n    server: 127.0.0.1:53\n    tsig: { name: k }\n`))).toMatch(/\.providers\.dns\.tsig\.secretFile: required/);
  });
});
