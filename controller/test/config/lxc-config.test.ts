// `providers.workload.type: lxc` in the controller config: defaults, and one-line refusals
// naming the key. Parsing needs root and the lxc tools (as the provider does); CI has both.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import type { LxcWorkloadOptions } from "../../src/providers/workload/lxc.js";
import { buildProviders } from "../../src/server-main.js";
import { tempDir } from "../providers/temp-dir.js";

const HEAD = "apiVersion: zerolaghub.dev/v1alpha1\nkind: ControllerConfig\n";

function load(workload: string, extra = "") {
  const dir = tempDir("lxc-config");
  const path = join(dir, "config.yaml");
  writeFileSync(path, `${HEAD}${extra}providers:\n  workload:\n${workload}`);
  return { path, dir, load: () => loadConfig(path, join(dir, "data"), {}) };
}

function refusal(workload: string, extra = ""): ConfigError {
  const c = load(workload, extra);
  try {
    c.load();
  } catch (err) {
    if (err instanceof ConfigError) {
      expect(err.message.startsWith(c.path)).toBe(true);
      expect(err.message).not.toContain("\n");
      return err;
    }
    throw err;
  }
  throw new Error("expected the config to be refused");
}

describe("lxc workload config", () => {
  it("fills in defaults and builds the provider", () => {
    const c = load("    type: lxc\n");
    const cfg = c.load();
    const r = cfg.workload.resolved as LxcWorkloadOptions;
    expect(r).toMatchObject({
      lxcpath: join(c.dir, "data", "lxc"),
      rootfs: { cacheDir: "/var/cache/zlh/lxc-rootfs", suite: "bookworm", mirror: "http://deb.debian.org/debian" },
      storage: "overlay",
      network: { mode: "routed", gateway: "10.100.0.1", subnet: { prefix: 16 } },
      nodeBinary: process.execPath,
    });
    expect(buildProviders(cfg, pino({ level: "silent" })).workload.name).toBe("lxc");
  });

  it("takes a bridge, a subnet and relative paths", () => {
    const c = load("    type: lxc\n    lxcpath: ./ct\n    storage: copy\n    network: { mode: bridge, bridge: lxcbr0, subnet: 10.2.0.0/15, gateway: 10.3.255.254 }\n");
    expect(c.load().workload.resolved).toMatchObject({ lxcpath: join(c.dir, "ct"), storage: "copy", network: { mode: "bridge", bridge: "lxcbr0", gateway: "10.3.255.254" } });
  });

  it.each([
    ["a subnet too small for the vmids", "    type: lxc\n    network: { subnet: 10.5.0.0/24 }\n", "", /\.providers\.workload\.network\.subnet: 10\.5\.0\.0\/24 is too small: vmid 65535/],
    ["a subnet with host bits", "    type: lxc\n    network: { subnet: 10.5.0.7/16 }\n", "", /\.providers\.workload\.network\.subnet: "10\.5\.0\.7\/16" is not an IPv4 subnet/],
    ["a gateway on a vmid's address", "    type: lxc\n    network: { gateway: 10.100.0.200 }\n", "", /\.providers\.workload\.network\.gateway: 10\.100\.0\.200 is the address of vmid 200/],
    ["a gateway that is not an address", "    type: lxc\n    network: { gateway: router }\n", "", /\.providers\.workload\.network\.gateway: "router" is not an IPv4 address/],
    ["bridge mode without a bridge", "    type: lxc\n    network: { mode: bridge, subnet: 10.2.0.0/15 }\n", "", /\.providers\.workload\.network\.bridge: bridge mode needs/],
    ["a bridge in routed mode", "    type: lxc\n    network: { bridge: br0 }\n", "", /\.providers\.workload\.network\.bridge: only used with network\.mode: bridge/],
    ["an unknown storage", "    type: lxc\n    storage: zfs\n", "", /\.providers\.workload\.storage: must be one of/],
    ["an lxcpath with a space", "    type: lxc\n    lxcpath: /var/lib/my lxc\n", "", /\.providers\.workload\.lxcpath: "\/var\/lib\/my lxc" must not contain whitespace/],
    ["a node binary that is missing", "    type: lxc\n    nodeBinary: /nonexistent/node\n", "", /\.providers\.workload\.nodeBinary: \/nonexistent\/node is not an executable file/],
    ["an unknown key", "    type: lxc\n    template: 9000\n", "", /\.providers\.workload\.template: unknown field/],
  ])("refuses %s in one line naming the key", (_what, workload, extra, expected) => {
    expect(refusal(workload, extra).message).toMatch(expected);
  });

  it("refuses vmids the subnet cannot hold, naming the subnet key", () => {
    expect(refusal("    type: lxc\n    network: { subnet: 10.5.0.0/20 }\n", "vmids: { from: 100, to: 5000 }\n").message).toMatch(/network\.subnet: 10\.5\.0\.0\/20 is too small: vmid 5000/);
  });
});
