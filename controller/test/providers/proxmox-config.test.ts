// The proxmox config section end to end: the loader parses it, the registry makes the
// provider, and the provider reaches the fake with the secret from the file and the pinned CA.
import { writeFileSync } from "node:fs";
import { Writable } from "node:stream";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { buildProviders } from "../../src/server-main.js";
import { startProxmoxFake, type ProxmoxFake } from "../fakes/proxmox-fake.js";
import { tempDir } from "./temp-dir.js";

const fakes: ProxmoxFake[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

function capture(): { logger: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  return { logger: pino({ level: "info" }, stream), text: () => chunks.join("") };
}

async function configFor(tls: string) {
  const fake = await startProxmoxFake();
  fakes.push(fake);
  const dir = tempDir("proxmox-config");
  writeFileSync(join(dir, "pve-token"), `${fake.secret}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "pve-ca.pem"), fake.ca);
  const yaml = `apiVersion: zerolaghub.dev/v1alpha1
kind: ControllerConfig
providers:
  workload:
    type: proxmox
    url: ${fake.url}
    node: pve1
    tokenId: zlh@pve!controller
    tokenSecretFile: pve-token
${tls}
    template: 9000
    storage: local-lvm
    bridge: vmbr0
`;
  const path = join(dir, "config.yaml");
  writeFileSync(path, yaml);
  return { fake, path, dir };
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

describe("proxmox config section", () => {
  it("makes a provider that reaches the API with the token file and the pinned CA", async () => {
    const { fake, path, dir } = await configFor("    caFile: pve-ca.pem");
    const log = capture();
    const providers = buildProviders(loadConfig(path, join(dir, "data"), {}), log.logger);
    expect(providers.workload.name).toBe("proxmox");
    expect(await providers.workload.list()).toEqual([]);
    expect(fake.requests[0]!.headers.authorization).toBe(`PVEAPIToken=zlh@pve!controller=${fake.secret}`);
    expect(log.text()).not.toContain("insecureSkipTLSVerify");
  });

  it("warns in the log when TLS verification is off, and still works", async () => {
    const { path, dir } = await configFor("    insecureSkipTLSVerify: true");
    const log = capture();
    const providers = buildProviders(loadConfig(path, join(dir, "data"), {}), log.logger);
    expect(await providers.workload.list()).toEqual([]);
    const line = log.text().split("\n").find((l) => l.includes("insecureSkipTLSVerify"));
    expect(JSON.parse(line!)).toMatchObject({ level: 40, provider: "workload/proxmox" });
  });

  it("refuses bad sections in one line naming the key, without the secret", async () => {
    const both = await configFor("    caFile: pve-ca.pem\n    insecureSkipTLSVerify: true");
    expect(refusal(both.path)).toMatch(/^[^\n]*\.providers\.workload\.insecureSkipTLSVerify: give caFile or insecureSkipTLSVerify, not both$/);
    const badCa = await configFor("    caFile: missing.pem");
    expect(refusal(badCa.path)).toMatch(/\.providers\.workload\.caFile: cannot read .*missing\.pem: ENOENT$/);
    const noSecret = await configFor("");
    writeFileSync(join(noSecret.dir, "pve-token"), "");
    const msg = refusal(noSecret.path);
    expect(msg).toMatch(/\.providers\.workload\.tokenSecretFile: .*pve-token is empty$/);
    expect(msg).not.toContain(noSecret.fake.secret);
  });
});
