import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import schema from "../../../schemas/controller-config.schema.json" with { type: "json" };
import { ConfigError, loadConfig } from "../../src/config.js";
import { providerRegistry } from "../../src/provider-registry.js";
import { SecretRef } from "../../src/providers/provider-config.js";
import { buildProviders } from "../../src/server-main.js";
import { tempDir } from "../providers/temp-dir.js";

const HEAD = "apiVersion: zerolaghub.dev/v1alpha1\nkind: ControllerConfig\n";
const silent = pino({ level: "silent" });

/** The configuration block of issue 8, with its /etc/zlh paths moved into `dir`. */
function issueConfig(dir: string): string {
  return `${HEAD}zone: zerolaghub.dev
providers:
  workload:
    type: proxmox            # or: local | lxc | memory
    url: https://pve1.example:8006      # base URL; tests point it at a fake on loopback
    node: pve1
    tokenId: zlh@pve!controller
    tokenSecretFile: ${dir}/pve-token  # secrets only from files (or *Env: NAME)
    caFile: ${dir}/pve-ca.pem          # or insecureSkipTLSVerify: true, with a warning in the log
    template: 9000                       # vmid of the template to clone (full or linked)
    storage: local-lvm
    bridge: vmbr0
  dns:                                   # one provider or a list: every record goes to each
    - type: technitium
      url: http://127.0.0.1:5380
      tokenFile: ${dir}/technitium-token
      zone: zerolaghub.dev
      target: workload                   # internal names point at the container's IP
    - type: cloudflare
      url: https://api.cloudflare.com/client/v4   # overridable for tests
      tokenFile: ${dir}/cloudflare-token
      zoneId: 023e105f4ecef8ad9ca31a8372d0c353
      zone: zerolaghub.dev
      target: edge                       # public names point at the edge's public IP
      proxied: false
    - type: rfc2136
      server: 127.0.0.1:5353
      zone: zerolaghub.dev
      tsig: { name: zlh-key, algorithm: hmac-sha256, secretFile: ${dir}/tsig.secret }
  routing:
    type: traefik-sftp                   # or: traefik-file | memory
    host: 127.0.0.1
    port: 22
    user: zlh
    privateKeyFile: ${dir}/proxy_ed25519
    knownHostsFile: ${dir}/known_hosts # the pinned host key; a mismatch is a hard error
    directory: /etc/traefik/dynamic
    edgeAddress: 203.0.113.10
`;
}

const SECRETS = {
  "pve-token": "pve-secret-5f1d2c",
  "technitium-token": "tech-secret-77ab",
  "cloudflare-token": "cf-secret-91cc",
  "tsig.secret": "c2VjcmV0LXRzaWcta2V5LXZhbHVl",
  proxy_ed25519: "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----",
};

function withSecrets(): string {
  const dir = tempDir("config");
  for (const [name, value] of Object.entries(SECRETS)) writeFileSync(join(dir, name), value + "\n", { mode: 0o600 });
  writeFileSync(join(dir, "pve-ca.pem"), "-----BEGIN CERTIFICATE-----\n");
  writeFileSync(join(dir, "known_hosts"), "[127.0.0.1]:22 ssh-ed25519 AAAA\n");
  return dir;
}

function write(dir: string, text: string): string {
  const path = join(dir, "config.yaml");
  writeFileSync(path, text);
  return path;
}

function loadError(path: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadConfig(path, join(path, "..", "data"), env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected the config to be refused");
}

describe("controller config", () => {
  it("defaults to the local workload, the records file and the Traefik directory under the data dir", () => {
    const data = join(tempDir("config"), "data");
    const c = loadConfig(undefined, data);
    expect(c.workload).toEqual({
      type: "local",
      field: "",
      // The data directory (admin.token, agent.secret, tls.key) is hidden from every sandbox.
      resolved: { root: join(data, "workloads"), isolation: { uids: { from: 200_000, to: 265_535 }, sandbox: "auto", hide: [data] } },
    });
    expect(c.dns).toEqual([{ type: "file", field: ".providers.dns", target: "edge", resolved: { path: join(data, "dns", "records.zone") } }]);
    expect(c.routing).toEqual({ type: "traefik-file", field: "", resolved: { directory: join(data, "traefik") } });
    expect(c.settings).toEqual({ zone: "zlh.localhost", ttl: 60, httpEntryPoint: "websecure" });
  });

  it("accepts the keys of issue 8 exactly as written", () => {
    const dir = withSecrets();
    const c = loadConfig(write(dir, issueConfig(dir)), join(dir, "data"), {});
    expect(c.workload.type).toBe("proxmox");
    expect(c.dns.map((d) => [d.field, d.type, d.target])).toEqual([
      [".providers.dns[0]", "technitium", "workload"],
      [".providers.dns[1]", "cloudflare", "edge"],
      [".providers.dns[2]", "rfc2136", "edge"],
    ]);
    expect(c.routing.type).toBe("traefik-sftp");
    expect(c.settings).toMatchObject({ zone: "zerolaghub.dev", edgeAddress: "203.0.113.10" });
  });

  it("never shows a secret when the resolved config is printed or logged", () => {
    const dir = withSecrets();
    const c = loadConfig(write(dir, issueConfig(dir)), join(dir, "data"), {});
    const printed = [JSON.stringify(c), inspect(c, { depth: 10 }), String(new SecretRef("file x", () => "s3cr3t"))].join("\n");
    for (const secret of Object.values(SECRETS)) expect(printed).not.toContain(secret.split("\n")[1] ?? secret);
    expect(new SecretRef("file x", () => " s3cr3t\n").value()).toBe("s3cr3t");
  });

  it("takes one DNS provider or a list, and an empty list publishes no DNS", () => {
    const dir = tempDir("config");
    const one = loadConfig(write(dir, `${HEAD}providers:\n  dns:\n    type: memory\n    target: workload\n`), join(dir, "data"));
    expect(one.dns).toEqual([{ type: "memory", field: ".providers.dns", target: "workload", resolved: {} }]);
    const none = loadConfig(write(dir, `${HEAD}providers:\n  dns: []\n`), join(dir, "data"));
    expect(none.dns).toEqual([]);
  });

  it("resolves relative paths against the config file's directory", () => {
    const dir = tempDir("config");
    const c = loadConfig(write(dir, `${HEAD}providers:\n  workload: { type: local, root: work }\n  dns: [{ type: file, path: ../records.zone }]\n`), "/elsewhere");
    expect(c.workload.resolved).toMatchObject({ root: join(dir, "work") });
    expect(c.dns[0]!.resolved).toEqual({ path: join(dir, "..", "records.zone") });
  });

  it("makes the providers the config names, each DNS provider with its target", () => {
    const dir = tempDir("config");
    const c = loadConfig(
      write(dir, `${HEAD}providers:\n  workload: { type: memory }\n  dns:\n    - { type: memory, target: workload }\n    - { type: file }\n  routing: { type: memory }\n`),
      join(dir, "data"),
    );
    const p = buildProviders(c, silent);
    expect(p.workload.name).toBe("memory");
    expect(p.dns.map((d) => [d.provider.name, d.target])).toEqual([["memory", "workload"], ["file", "edge"]]);
    expect(p.routing.name).toBe("memory");
  });

  it("lists the same provider types in the schema as in the registry", () => {
    const defs = schema.definitions as Record<string, { oneOf?: { $ref: string }[]; properties?: { type?: { const?: string } } }>;
    const typesOf = (def: string) =>
      defs[def]!.oneOf!.map((b) => defs[b.$ref.split("/").pop()!]!.properties!.type!.const!).sort();
    expect(typesOf("workloadProviderConfig")).toEqual(Object.keys(providerRegistry.workload).sort());
    expect(typesOf("dnsProviderConfig")).toEqual(Object.keys(providerRegistry.dns).sort());
    expect(typesOf("routingProviderConfig")).toEqual(Object.keys(providerRegistry.routing).sort());
  });

  describe("refuses a bad config in one line naming the key, file and line", () => {
    const cases: [string, (dir: string) => string, RegExp][] = [
      ["an unknown provider type", () => `${HEAD}providers:\n  workload:\n    type: docker\n`, /:5:5: \.providers\.workload\.type: unknown workload provider "docker"; must be one of local, lxc, proxmox, memory$/],
      ["a missing type", () => `${HEAD}providers:\n  routing:\n    directory: /x\n`, /:4:3: \.providers\.routing\.type: required field is missing/],
      ["an unknown key of one provider", (d) => issueConfig(d).replace("zoneId:", "zoneid:"), /:24:7: \.providers\.dns\[1\]\.zoneid: unknown field$/],
      ["a key of another provider", () => `${HEAD}providers:\n  dns:\n    type: file\n    zoneId: 023e105f4ecef8ad9ca31a8372d0c353\n`, /:6:5: \.providers\.dns\.zoneId: unknown field$/],
      ["a wrong value deep in a list", () => `${HEAD}providers:\n  dns:\n    - type: memory\n    - type: rfc2136\n      server: 127.0.0.1:53\n      tsig: { name: k, algorithm: md4, secretFile: x }\n`, /:8:24: \.providers\.dns\[1\]\.tsig\.algorithm: must be one of "hmac-sha256"/],
      ["dns that is neither a provider nor a list", () => `${HEAD}providers:\n  dns: 5\n`, /:4:3: \.providers\.dns: must be one provider \(a mapping with type\) or a list of them$/],
      ["a secret file that is missing", (d) => issueConfig(d).replace(`${d}/tsig.secret`, `${d}/nope.secret`), /:31:54: \.providers\.dns\[2\]\.tsig\.secretFile: cannot read .*nope\.secret: ENOENT$/],
      ["an empty secret file", (d) => (writeFileSync(join(d, "pve-token"), "\n"), issueConfig(d)), /:10:5: \.providers\.workload\.tokenSecretFile: .*pve-token is empty$/],
      ["a secret variable that is not set", (d) => issueConfig(d).replace(`tokenFile: ${d}/technitium-token`, "tokenEnv: ZLH_TECHNITIUM_TOKEN"), /:18:7: \.providers\.dns\[0\]\.tokenEnv: environment variable ZLH_TECHNITIUM_TOKEN is not set or empty$/],
      ["two TTLs", () => `${HEAD}providers:\n  dns:\n    - { type: memory, ttl: 60 }\n    - { type: file, ttl: 300 }\n`, /:6:21: \.providers\.dns\[1\]\.ttl: every DNS provider publishes the same records with one TTL; use 60 here too$/],
      ["vmids a local workload cannot address", () => `${HEAD}vmids: { from: 100, to: 70000 }\n`, /:3:21: \.vmids\.to: the local workload provider/],
      ["workload uids too few for the vmids", () => `${HEAD}providers:\n  workload: { type: local, uids: { from: 300000, to: 300100 } }\n`, /:4:50: \.providers\.workload\.uids\.to: 300100 is too small: vmid 65535 \(\.vmids\.to\) needs uid 365535$/],
      ["workload uids among system accounts", () => `${HEAD}providers:\n  workload: { type: local, uids: { from: 10, to: 300000 } }\n`, /\.providers\.workload\.uids\.from: 10 is a system uid/],
      ["an unknown sandbox", () => `${HEAD}providers:\n  workload: { type: local, sandbox: docker }\n`, /\.providers\.workload\.sandbox: must be one of/],
      ["a range backwards", () => `${HEAD}publicPorts: { from: 3000, to: 2000 }\n`, /:3:1: \.publicPorts: from \(3000\) is greater than to \(2000\)$/],
      ["broken YAML", () => `${HEAD}providers: [\n`, /config\.yaml:\d+:\d+: /],
      ["not a mapping", () => "- a\n- b\n", /config\.yaml: the config must be a mapping/],
    ];
    it.each(cases)("%s", (_what, text, expected) => {
      const dir = withSecrets();
      const path = write(dir, text(dir));
      const err = loadError(path);
      expect(err.message).toMatch(expected);
      expect(err.message.startsWith(path)).toBe(true);
      expect(err.message).not.toContain("\n");
      expect(err.reason).toBe("InvalidConfig");
    });

    it("names a file that cannot be read", () => {
      const err = loadError("/nonexistent/zlh.yaml");
      expect(err.message).toBe("/nonexistent/zlh.yaml: cannot read: ENOENT");
    });
  });

  describe("refuses secrets written inline, naming the key to use instead and never the value", () => {
    it.each([
      ["token", `${HEAD}providers:\n  dns:\n    - type: technitium\n      url: http://127.0.0.1:5380\n      token: tech-inline-secret\n`, /:7:7: \.providers\.dns\[0\]\.token: secrets are never written in the config; put it in a file and use tokenFile: PATH \(or tokenEnv: NAME/],
      ["tsig.secret", `${HEAD}providers:\n  dns:\n    type: rfc2136\n    server: 127.0.0.1:53\n    tsig:\n      name: k\n      secret: tech-inline-secret\n`, /:9:7: \.providers\.dns\.tsig\.secret: .*use secretFile: PATH/],
      ["tokenSecret", `${HEAD}providers:\n  workload:\n    type: proxmox\n    tokenSecret: tech-inline-secret\n`, /\.providers\.workload\.tokenSecret: .*tokenSecretFile/],
      ["privateKey", `${HEAD}providers:\n  routing:\n    type: traefik-sftp\n    privateKey: tech-inline-secret\n`, /\.providers\.routing\.privateKey: .*privateKeyFile/],
    ])("%s", (_key, text, expected) => {
      const dir = tempDir("config");
      const err = loadError(write(dir, text));
      expect(err.message).toMatch(expected);
      expect(err.message).not.toContain("tech-inline-secret");
    });

    it("does not take tokenId or tokenSecretFile for secrets", () => {
      const dir = withSecrets();
      expect(() => loadConfig(write(dir, issueConfig(dir)), join(dir, "data"), {})).not.toThrow();
    });
  });

  it("refuses a secret given both as a file and as a variable", () => {
    const dir = withSecrets();
    mkdirSync(join(dir, "data"));
    const text = issueConfig(dir).replace(`tokenFile: ${dir}/cloudflare-token`, `tokenFile: ${dir}/cloudflare-token\n      tokenEnv: CF_TOKEN`);
    const err = loadError(write(dir, text), { CF_TOKEN: "x" });
    expect(err.message).toMatch(/\.providers\.dns\[1\]\.tokenEnv: give the secret once: tokenFile or tokenEnv, not both$/);
  });
});
