// The LXC container config file the provider writes, and reading it back. The config is the
// container's only record: owner mark, vmid, address and limits all live in it (as
// `lxc.environment` entries and cgroup keys), so a container lxc-create made is complete and
// adoptable at once, with no second file that a crash could leave missing.
import { ProviderError } from "../provider-error.js";
import type { WorkloadResources } from "./types.js";

/** Where the provider's files appear inside every container. */
export const IN_CONTAINER = {
  /** Directory with `token` (0600) and `controller-url`, bind-mounted read-only. */
  etc: "/etc/zlh",
  /** The agent bundle's directory, bind-mounted read-only. */
  agentDir: "/opt/zlh/agent",
  /** The host's Node binary, bind-mounted read-only. */
  node: "/opt/zlh/bin/node",
} as const;

export type CgroupVersion = 1 | 2;

export type LxcNetwork =
  /** veth in router mode: a /32 route on the host, proxy ARP for the gateway. No bridge needed. */
  | { mode: "routed"; ip: string; gateway: string; hostIface: string }
  /** veth on an existing bridge, address and gateway on the bridge's subnet. */
  | { mode: "bridge"; ip: string; prefix: number; gateway: string; bridge: string; hostIface: string };

export interface ContainerSpec {
  name: string;
  hostname: string;
  ownerMark: string;
  vmid: number;
  resource: string;
  /** `dir:<path>` or `overlay:<lower>:<upper>`. */
  rootfs: string;
  /** Host directory holding token and controller-url. */
  etcDir: string;
  agentBundle: string;
  nodeBinary: string;
  controllerUrl: string;
  resources: WorkloadResources;
  cgroup: CgroupVersion;
  network: LxcNetwork;
  consoleLog: string;
}

const CPU_PERIOD_US = 100_000;

/** The cgroup keys for these limits, for cgroup v1 or v2 hosts (Proxmox VE 8 is pure v2). */
export function cgroupLimits(r: WorkloadResources, v: CgroupVersion): [string, string][] {
  const quota = String(Math.round(r.cpu * CPU_PERIOD_US));
  const bytes = String(r.memoryMiB * 1024 * 1024);
  if (v === 2) {
    return [
      ["cpu.max", `${quota} ${CPU_PERIOD_US}`],
      ["memory.max", bytes],
    ];
  }
  return [
    ["cpu.cfs_period_us", String(CPU_PERIOD_US)],
    ["cpu.cfs_quota_us", quota],
    ["memory.limit_in_bytes", bytes],
  ];
}

function cgroupPrefix(v: CgroupVersion): string {
  return v === 2 ? "lxc.cgroup2." : "lxc.cgroup.";
}

function assertValue(key: string, value: string): void {
  // A newline would start a second key: nothing the provider writes may contain one.
  if (/[\r\n]/.test(value)) throw new ProviderError("Invalid", `lxc config ${key}: value must be a single line`);
}

export function renderContainerConfig(s: ContainerSpec): string {
  const lines: [string, string][] = [
    ["lxc.uts.name", s.hostname],
    ["lxc.rootfs.path", s.rootfs],
    // minbase has no init: the agent is PID 1, so the container runs exactly while it does.
    ["lxc.init.cmd", `${IN_CONTAINER.node} ${IN_CONTAINER.agentDir}/${basename(s.agentBundle)}`],
    ["lxc.init.cwd", "/"],
    // lxc-stop sends this to PID 1 first: the agent stops its server on SIGTERM.
    ["lxc.signal.halt", "SIGTERM"],
    ["lxc.console.logfile", s.consoleLog],
    ["lxc.tty.max", "0"],
    ["lxc.pty.max", "16"],
    ["lxc.mount.auto", "proc:mixed sys:ro cgroup:mixed"],
    ["lxc.autodev", "1"],
    ["lxc.cap.drop", "sys_module sys_rawio sys_time mac_admin mac_override sys_boot"],
    ["lxc.mount.entry", `${s.etcDir} ${IN_CONTAINER.etc.slice(1)} none bind,ro,create=dir 0 0`],
    ["lxc.mount.entry", `${dirname(s.agentBundle)} ${IN_CONTAINER.agentDir.slice(1)} none bind,ro,create=dir 0 0`],
    ["lxc.mount.entry", `${s.nodeBinary} ${IN_CONTAINER.node.slice(1)} none bind,ro,create=file 0 0`],
    ...networkLines(s.network),
    ...cgroupLimits(s.resources, s.cgroup).map(([k, v]): [string, string] => [cgroupPrefix(s.cgroup) + k, v]),
    ["lxc.cgroup" + (s.cgroup === 2 ? "2" : "") + ".pids.max", "4096"],
    ...Object.entries(agentEnvironment(s)).map(([k, v]): [string, string] => ["lxc.environment", `${k}=${v}`]),
  ];
  for (const [k, v] of lines) assertValue(k, v);
  return (
    "# Written by zlh (workload provider lxc). Edits are overwritten on update.\n" +
    `# disk ${s.resources.diskGiB} GiB (recorded; directory and overlay rootfs have no quota)\n` +
    lines.map(([k, v]) => `${k} = ${v}`).join("\n") +
    "\n"
  );
}

function networkLines(n: LxcNetwork): [string, string][] {
  const common: [string, string][] = [
    ["lxc.net.0.type", "veth"],
    ["lxc.net.0.name", "eth0"],
    ["lxc.net.0.veth.pair", n.hostIface],
    ["lxc.net.0.flags", "up"],
  ];
  if (n.mode === "routed") {
    return [...common, ["lxc.net.0.veth.mode", "router"], ["lxc.net.0.ipv4.address", `${n.ip}/32`], ["lxc.net.0.ipv4.gateway", n.gateway]];
  }
  return [...common, ["lxc.net.0.link", n.bridge], ["lxc.net.0.ipv4.address", `${n.ip}/${n.prefix}`], ["lxc.net.0.ipv4.gateway", n.gateway]];
}

/** What the agent (PID 1) gets. No secrets: the token is a 0600 file under /etc/zlh. */
function agentEnvironment(s: ContainerSpec): Record<string, string> {
  return {
    ZLH_OWNER_MARK: s.ownerMark,
    ZLH_CONTROLLER_URL: s.controllerUrl,
    ZLH_CONTROLLER_URL_FILE: `${IN_CONTAINER.etc}/controller-url`,
    ZLH_TOKEN_FILE: `${IN_CONTAINER.etc}/token`,
    ZLH_RESOURCE: s.resource,
    ZLH_ROOT: "/",
    ZLH_IP: s.network.ip,
    ZLH_HOSTNAME: s.hostname,
    ZLH_VMID: String(s.vmid),
    ZLH_DISK_GIB: String(s.resources.diskGiB),
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  };
}

/** What a container's config says about it; undefined when it carries no zlh owner mark. */
export interface ParsedContainer {
  ownerMark: string;
  vmid: number;
  ip: string;
  hostname: string;
  controllerUrl: string;
  resources?: WorkloadResources;
}

export function parseContainerConfig(text: string): ParsedContainer | undefined {
  const env = new Map<string, string>();
  const keys = new Map<string, string>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (key === "lxc.environment") {
      const e = value.indexOf("=");
      if (e > 0) env.set(value.slice(0, e), value.slice(e + 1));
    } else {
      keys.set(key, value);
    }
  }
  const ownerMark = env.get("ZLH_OWNER_MARK");
  const vmid = Number(env.get("ZLH_VMID"));
  const ip = env.get("ZLH_IP");
  if (!ownerMark || !Number.isInteger(vmid) || !ip) return undefined;
  const parsed: ParsedContainer = { ownerMark, vmid, ip, hostname: env.get("ZLH_HOSTNAME") ?? "", controllerUrl: env.get("ZLH_CONTROLLER_URL") ?? "" };
  const resources = readLimits(keys, Number(env.get("ZLH_DISK_GIB") ?? "0"));
  if (resources) parsed.resources = resources;
  return parsed;
}

function readLimits(keys: Map<string, string>, diskGiB: number): WorkloadResources | undefined {
  const v2cpu = keys.get("lxc.cgroup2.cpu.max")?.split(/\s+/);
  const quota = v2cpu ? Number(v2cpu[0]) : Number(keys.get("lxc.cgroup.cpu.cfs_quota_us"));
  const period = v2cpu ? Number(v2cpu[1]) : Number(keys.get("lxc.cgroup.cpu.cfs_period_us"));
  const bytes = Number(keys.get("lxc.cgroup2.memory.max") ?? keys.get("lxc.cgroup.memory.limit_in_bytes"));
  if (!(quota > 0 && period > 0 && bytes > 0)) return undefined;
  return { cpu: quota / period, memoryMiB: Math.round(bytes / (1024 * 1024)), diskGiB };
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

function dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}
