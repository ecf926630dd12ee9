// `providers.workload` with `type: lxc` (see the lxcWorkloadConfig schema branch).
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { LxcWorkloadConfig } from "../../../../schemas/generated/types.js";
import { agentBundlePath } from "../../project-paths.js";
import { defineProvider, type ParseContext } from "../provider-config.js";
import { LxcWorkloadProvider, type LxcWorkloadOptions } from "./lxc.js";
import { addressInSubnet, ipToInt, parseSubnet, lastOffset } from "./lxc-network.js";
import { isIPv4 } from "node:net";

export const LXC_DEFAULTS = {
  cacheDir: "/var/cache/zlh/lxc-rootfs",
  suite: "bookworm",
  mirror: "http://deb.debian.org/debian",
  subnet: "10.100.0.0/16",
} as const;

function onPath(env: NodeJS.ProcessEnv, command: string): boolean {
  return (env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter).some((d) => d !== "" && existsSync(join(d, command)));
}

function noSpaces(ctx: ParseContext, key: string, path: string): string {
  if (/\s/.test(path)) ctx.fail(key, `${JSON.stringify(path)} must not contain whitespace (LXC mount entries split on it)`);
  return path;
}

function parseNetwork(section: LxcWorkloadConfig, ctx: ParseContext): LxcWorkloadOptions["network"] {
  const n = section.network ?? {};
  const subnetText = n.subnet ?? LXC_DEFAULTS.subnet;
  const subnet = parseSubnet(subnetText);
  if (!subnet) ctx.fail("network.subnet", `${JSON.stringify(subnetText)} is not an IPv4 subnet base/prefix with prefix 8-30 and no host bits`);
  const mode = n.mode ?? "routed";
  if (ctx.vmids.to > lastOffset(subnet, mode === "routed")) {
    ctx.fail("network.subnet", `${subnetText} is too small: vmid ${ctx.vmids.to} (.vmids.to) needs an address base + ${ctx.vmids.to}`);
  }
  const gateway = n.gateway ?? addressInSubnet(subnet, 1);
  if (!isIPv4(gateway)) ctx.fail("network.gateway", `${JSON.stringify(gateway)} is not an IPv4 address`);
  const offset = ipToInt(gateway) - subnet.base;
  if (offset >= ctx.vmids.from && offset <= ctx.vmids.to) {
    ctx.fail("network.gateway", `${gateway} is the address of vmid ${offset}, inside .vmids ${ctx.vmids.from}-${ctx.vmids.to}`);
  }
  if (mode === "bridge") {
    if (!n.bridge) ctx.fail("network.bridge", "bridge mode needs the name of an existing bridge");
    return { mode, subnet, gateway, bridge: n.bridge };
  }
  if (n.bridge !== undefined) ctx.fail("network.bridge", "only used with network.mode: bridge");
  return { mode, subnet, gateway };
}

export const lxcWorkload = defineProvider({
  parse(section: LxcWorkloadConfig, ctx): LxcWorkloadOptions {
    // Privileged containers, veth pairs and cgroup writes all need root.
    if (process.getuid?.() !== 0) ctx.fail("type", "the lxc workload provider needs root (it runs privileged containers and creates veth pairs)");
    for (const tool of ["lxc-create", "lxc-start", "lxc-ls", "debootstrap"]) {
      if (!onPath(ctx.env, tool)) ctx.fail("type", `${tool} is not on PATH: install the lxc and debootstrap packages`);
    }
    const lxcpath = noSpaces(ctx, "lxcpath", ctx.path(section.lxcpath, join(ctx.dataDir, "lxc")));
    const cacheDir = noSpaces(ctx, "rootfs.cacheDir", ctx.path(section.rootfs?.cacheDir, LXC_DEFAULTS.cacheDir));
    const nodeBinary = noSpaces(ctx, "nodeBinary", ctx.path(section.nodeBinary, process.execPath));
    try {
      accessSync(nodeBinary, constants.X_OK);
    } catch {
      ctx.fail("nodeBinary", `${nodeBinary} is not an executable file`);
    }
    const agentBundle = agentBundlePath();
    noSpaces(ctx, "type", agentBundle);
    return {
      lxcpath,
      rootfs: { cacheDir, suite: section.rootfs?.suite ?? LXC_DEFAULTS.suite, mirror: section.rootfs?.mirror ?? LXC_DEFAULTS.mirror },
      storage: section.storage ?? "overlay",
      network: parseNetwork(section, ctx),
      agentBundle,
      nodeBinary,
      ...(section.stopTimeoutSeconds !== undefined ? { stopTimeoutSeconds: section.stopTimeoutSeconds } : {}),
    };
  },
  make(r: LxcWorkloadOptions, env) {
    return new LxcWorkloadProvider({ ...r, logger: env.logger });
  },
});
