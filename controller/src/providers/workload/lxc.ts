// `type: lxc`: each workload is a real LXC container under the provider's own lxcpath, its
// rootfs the cached debootstrap image (overlay or copy), the agent its PID 1. The container's
// config is its record (lxc-container-config.ts) and is written last, so a container either
// carries the owner mark and everything it needs, or is an unmarked leftover of a crashed
// create that the next create of that name clears.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { writeFileAtomic } from "../atomic-write.js";
import { Mutex } from "../mutex.js";
import { ownerMark, type Owner } from "../owner.js";
import { ioError, ProviderError } from "../provider-error.js";
import { LxcCli, type LxcState } from "./lxc-cli.js";
import { cgroupLimits, parseContainerConfig, renderContainerConfig, type CgroupVersion, type ContainerSpec, type LxcNetwork, type ParsedContainer } from "./lxc-container-config.js";
import { addressInSubnet, hostInterfaceName, type Subnet } from "./lxc-network.js";
import { ensureRootfs, type RootfsOptions } from "./lxc-rootfs.js";
import type { DesiredWorkload, ObservedWorkload, WorkloadProvider } from "./types.js";
import { assertValidDesired, assertWorkloadId, resourcePath, WORKLOAD_ID, workloadId } from "./workload-rules.js";

export type LxcNetworkOptions = { mode: "routed"; subnet: Subnet; gateway: string } | { mode: "bridge"; subnet: Subnet; gateway: string; bridge: string };

export interface LxcWorkloadOptions {
  /** The provider's own lxcpath: one directory per container. */
  lxcpath: string;
  rootfs: Omit<RootfsOptions, "logger">;
  /** overlay: the image is shared read-only, each container writes its own upper layer. copy: a full copy each. */
  storage: "overlay" | "copy";
  network: LxcNetworkOptions;
  /** Host paths bind-mounted read-only into every container. */
  agentBundle: string;
  nodeBinary: string;
  /** Detected from /sys/fs/cgroup when absent. */
  cgroup?: CgroupVersion;
  node?: string;
  logger?: Logger;
  /** How long the agent gets after SIGTERM before lxc-stop kills the container (default 30). */
  stopTimeoutSeconds?: number;
  binDir?: string;
}

const UPPER = "upper";
const COPY = "rootfs";
const ETC = "zlh";

export function detectCgroupVersion(): CgroupVersion {
  return existsSync("/sys/fs/cgroup/cgroup.controllers") ? 2 : 1;
}

export class LxcWorkloadProvider implements WorkloadProvider {
  readonly name = "lxc";
  private readonly cli: LxcCli;
  private readonly node: string;
  private readonly logger?: Logger;
  private readonly cgroup: CgroupVersion;
  private readonly stopTimeout: number;
  private readonly createLock = new Mutex();
  private readonly idLocks = new Map<string, Mutex>();

  constructor(private readonly o: LxcWorkloadOptions) {
    for (const [key, p] of Object.entries({ lxcpath: o.lxcpath, agentBundle: o.agentBundle, nodeBinary: o.nodeBinary, cacheDir: o.rootfs.cacheDir })) {
      // Paths end up in lxc.mount.entry lines, which split on whitespace.
      if (/\s/.test(p) || !p.startsWith("/")) throw new ProviderError("Invalid", `lxc ${key} ${JSON.stringify(p)} must be an absolute path without spaces`);
    }
    this.cli = new LxcCli({ lxcpath: o.lxcpath, ...(o.binDir ? { binDir: o.binDir } : {}) });
    this.node = o.node ?? osHostname();
    this.logger = o.logger?.child({ provider: "workload/lxc" });
    this.cgroup = o.cgroup ?? detectCgroupVersion();
    this.stopTimeout = o.stopTimeoutSeconds ?? 30;
  }

  async observe(owners: readonly Owner[]): Promise<ObservedWorkload[]> {
    if (owners.length === 0) return [];
    const marks = new Set(owners.map(ownerMark));
    // Only containers named for these owners can be theirs: read those configs, not all.
    const suffixes = new Set(owners.map((o) => workloadId(o, 0).slice(1)));
    const named = (name: string) => suffixes.has(name.replace(/^[0-9]+/, ""));
    return (await this.scan(named)).filter((w) => marks.has(w.ownerMark));
  }

  async list(): Promise<ObservedWorkload[]> {
    return this.scan(() => true);
  }

  async create(desired: DesiredWorkload): Promise<ObservedWorkload> {
    assertValidDesired(desired);
    const id = workloadId(desired.owner, desired.vmid);
    const mark = ownerMark(desired.owner);
    const ip = addressInSubnet(this.o.network.subnet, desired.vmid, this.o.network.mode === "routed");
    return this.createLock.run(() =>
      this.lockFor(id).run(async () => {
        const states = await this.cli.list();
        for (const w of await this.scan(() => true, states)) {
          if (w.ownerMark === mark) throw new ProviderError("Conflict", `workload for ${mark} already exists as ${w.id}`);
          if (w.vmid === desired.vmid) throw new ProviderError("Conflict", `vmid ${desired.vmid} is already used by workload ${w.id}`);
        }
        if (existsSync(this.dirOf(id))) await this.clearLeftover(id, states);
        const lower = await ensureRootfs({ ...this.o.rootfs, ...(this.logger ? { logger: this.logger } : {}) });
        const spec = this.specFor(id, desired, ip, lower);
        // lxc-create first with a config that has no owner mark (and a plain directory
        // rootfs: lxc-create checks it exists, and an overlay path is not one): until the
        // marked config replaces it below, a crash leaves a leftover, never a half-made workload.
        const tmp = join(this.o.lxcpath, `.${id}.config`);
        try {
          mkdirSync(this.writableRoot(id), { recursive: true, mode: 0o755 });
          writeFileAtomic(tmp, renderContainerConfig({ ...spec, ownerMark: "", rootfs: `dir:${this.writableRoot(id)}` }), { mode: 0o600 });
        } catch (err) {
          throw ioError("cannot write the container config", tmp, err);
        }
        try {
          await this.cli.create(id, tmp);
        } finally {
          rmSync(tmp, { force: true });
        }
        await this.prepareRootfs(id, lower);
        this.writeAgentFiles(id, desired.agent);
        this.writeConfig(id, spec);
        this.logger?.info({ workload: id, owner: mark, ip }, "container created");
        return this.startContainer(id);
      }),
    );
  }

  async start(id: string): Promise<ObservedWorkload> {
    assertWorkloadId(id);
    return this.lockFor(id).run(async () => {
      const w = await this.find(id);
      if (w.running) return w;
      return this.startContainer(id);
    });
  }

  async update(id: string, desired: DesiredWorkload): Promise<ObservedWorkload> {
    assertWorkloadId(id);
    assertValidDesired(desired);
    return this.lockFor(id).run(async () => {
      const w = await this.find(id);
      if (w.ownerMark !== ownerMark(desired.owner)) throw new ProviderError("Conflict", `workload ${id} belongs to ${w.ownerMark}`);
      // The running agent re-reads the token and URL files when a controller request fails.
      this.writeAgentFiles(id, desired.agent);
      const current = this.readConfig(id)!;
      const spec = this.specFor(id, { ...desired, vmid: w.vmid, hostname: current.hostname }, w.ip!, this.lowerOf(id));
      this.writeConfig(id, spec);
      if (w.running) {
        // Limits take effect now through the container's cgroup; the config keeps them for the next start.
        for (const [key, value] of cgroupLimits(desired.resources, this.cgroup)) await this.cli.setCgroup(id, key, value);
      }
      this.logger?.info({ workload: id, resources: desired.resources }, "container updated");
      return { ...w, resources: { ...desired.resources }, controllerUrl: desired.agent.controllerUrl };
    });
  }

  async delete(id: string): Promise<void> {
    assertWorkloadId(id);
    await this.lockFor(id).run(async () => {
      if (!existsSync(this.dirOf(id))) return;
      if (!this.readConfig(id)) {
        this.logger?.warn({ workload: id }, "unmarked container left alone");
        return;
      }
      await this.cli.stop(id, this.stopTimeout);
      await this.cli.destroy(id);
      // lxc-destroy removes what it made; our files beside the config go with the directory.
      try {
        rmSync(this.dirOf(id), { recursive: true, force: true });
      } catch (err) {
        throw ioError("cannot remove container directory", this.dirOf(id), err);
      }
      this.logger?.info({ workload: id }, "container deleted");
    });
  }

  /** Runs a command inside a running container (tests and operators' checks). */
  async exec(id: string, argv: readonly string[]): Promise<{ stdout: string; stderr: string }> {
    assertWorkloadId(id);
    return this.cli.attach(id, argv);
  }

  /** Where the container's writable files are on the host (its overlay upper layer or copy). */
  writableRoot(id: string): string {
    assertWorkloadId(id);
    return join(this.dirOf(id), this.o.storage === "overlay" ? UPPER : COPY);
  }

  private specFor(id: string, d: DesiredWorkload, ip: string, lower: string): ContainerSpec {
    const dir = this.dirOf(id);
    return {
      name: id,
      hostname: d.hostname,
      ownerMark: ownerMark(d.owner),
      vmid: d.vmid,
      resource: resourcePath(d.owner),
      rootfs: this.o.storage === "overlay" ? `overlay:${lower}:${join(dir, UPPER)}` : `dir:${join(dir, COPY)}`,
      etcDir: join(dir, ETC),
      agentBundle: this.o.agentBundle,
      nodeBinary: this.o.nodeBinary,
      controllerUrl: d.agent.controllerUrl,
      resources: { ...d.resources },
      cgroup: this.cgroup,
      network: this.networkFor(d.vmid, ip),
      consoleLog: join(dir, "console.log"),
    };
  }

  private networkFor(vmid: number, ip: string): LxcNetwork {
    const n = this.o.network;
    const hostIface = hostInterfaceName(this.o.lxcpath, vmid);
    if (n.mode === "routed") return { mode: "routed", ip, gateway: n.gateway, hostIface };
    return { mode: "bridge", ip, prefix: n.subnet.prefix, gateway: n.gateway, bridge: n.bridge, hostIface };
  }

  private lowerOf(id: string): string {
    const rootfs = readFileSync(join(this.dirOf(id), "config"), "utf8").match(/^lxc\.rootfs\.path = overlay:([^:\n]+):/m);
    return rootfs?.[1] ?? "";
  }

  private async prepareRootfs(id: string, lower: string): Promise<void> {
    const target = this.writableRoot(id);
    try {
      // cp -a keeps device nodes, owners and hard links, which fs.cpSync does not.
      if (this.o.storage === "copy") await this.cli.run("cp", ["-a", "--reflink=auto", `${lower}/.`, target]);
    } catch (err) {
      throw ioError("cannot prepare the container rootfs", target, err);
    }
  }

  /** Token (0600) and controller URL in a 0700 directory the container sees read-only at /etc/zlh. */
  private writeAgentFiles(id: string, agent: DesiredWorkload["agent"]): void {
    const dir = join(this.dirOf(id), ETC);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw ioError("cannot create", dir, err);
    }
    writeFileAtomic(join(dir, "token"), agent.token, { mode: 0o600 });
    writeFileAtomic(join(dir, "controller-url"), agent.controllerUrl + "\n", { mode: 0o600 });
  }

  private writeConfig(id: string, spec: ContainerSpec): void {
    writeFileAtomic(join(this.dirOf(id), "config"), renderContainerConfig(spec), { mode: 0o600 });
  }

  private async startContainer(id: string): Promise<ObservedWorkload> {
    await this.cli.start(id, join(this.dirOf(id), "lxc.log"));
    await this.cli.waitRunning(id, 30);
    const w = await this.find(id);
    if (w.running) this.logger?.info({ workload: id, ip: w.ip }, "container started");
    else this.logger?.warn({ workload: id, log: join(this.dirOf(id), "console.log") }, "agent exited at once");
    return w;
  }

  /** A container with our name but no mark is what a crashed create left: it is ours to clear. */
  private async clearLeftover(id: string, states: LxcState[]): Promise<void> {
    this.logger?.warn({ workload: id }, "clearing the leftover of an interrupted create");
    if (states.some((s) => s.name === id)) {
      await this.cli.stop(id, 5);
      await this.cli.destroy(id).catch(() => undefined);
    }
    rmSync(this.dirOf(id), { recursive: true, force: true });
  }

  private async find(id: string): Promise<ObservedWorkload> {
    const [w] = await this.scan((name) => name === id);
    if (!w) throw new ProviderError("NotFound", `workload ${id} does not exist under ${this.o.lxcpath}`);
    return w;
  }

  private async scan(include: (name: string) => boolean, known?: LxcState[]): Promise<ObservedWorkload[]> {
    // lxc-ls lists nothing for a broken lxcpath; say what is wrong instead.
    const st = statSync(this.o.lxcpath, { throwIfNoEntry: false });
    if (!st) return [];
    if (!st.isDirectory()) throw ioError("cannot list containers in", this.o.lxcpath, Object.assign(new Error("not a directory"), { code: "ENOTDIR" }));
    const states = known ?? (await this.cli.list());
    const found: ObservedWorkload[] = [];
    for (const s of states.sort((a, b) => a.name.localeCompare(b.name))) {
      if (!WORKLOAD_ID.test(s.name) || !include(s.name)) continue;
      const c = this.readConfig(s.name);
      if (c) found.push(this.toObserved(s, c));
    }
    return found;
  }

  private readConfig(id: string): ParsedContainer | undefined {
    const path = join(this.dirOf(id), "config");
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw ioError("cannot read", path, err);
    }
    return parseContainerConfig(text);
  }

  private toObserved(s: LxcState, c: ParsedContainer): ObservedWorkload {
    let controllerUrl = c.controllerUrl;
    try {
      controllerUrl = readFileSync(join(this.dirOf(s.name), ETC, "controller-url"), "utf8").trim() || controllerUrl;
    } catch {
      // the config's copy is the one the agent started with
    }
    const w: ObservedWorkload = { id: s.name, vmid: c.vmid, node: this.node, ip: c.ip, running: s.running, ownerMark: c.ownerMark, controllerUrl };
    if (c.resources) w.resources = c.resources;
    return w;
  }

  private dirOf(id: string): string {
    return join(this.o.lxcpath, id);
  }

  private lockFor(id: string): Mutex {
    let m = this.idLocks.get(id);
    if (!m) this.idLocks.set(id, (m = new Mutex()));
    return m;
  }
}
