// Workloads as Proxmox VE LXC containers cloned from a template (APIS.md §c). The vmid comes
// from the controller's allocator and is persisted in status before create(), so a crash
// after the clone finds the container at that vmid, recognises its owner mark in the
// description and carries on (adoption) instead of cloning twice. A container without our
// mark is never touched. Tasks are polled on the injected clock; credentials reach the agent
// outside the Proxmox API (agent-delivery.ts).
import type { Logger } from "pino";
import { realClock, type Clock } from "../../engine/clock.js";
import { ownerMark, type Owner } from "../owner.js";
import { ProviderError } from "../provider-error.js";
import { DEFAULT_RETRY, type RetryPolicy } from "../retry.js";
import { pushDelivery, type DeliverAgentCredentials } from "./agent-delivery.js";
import { ProxmoxApi, ProxmoxApiError, type ProxmoxTls } from "./proxmox-api.js";
import { description, idMatches, proxmoxId, readDescription, rootfsGiB, tagsOf, uidTag, vmidOfId, ZLH_TAG } from "./proxmox-marks.js";
import type { DesiredWorkload, ObservedWorkload, WorkloadProvider } from "./types.js";
import { resourcePath } from "./workload-rules.js";

export interface ProxmoxOptions {
  url: string;
  node: string;
  tokenId: string;
  /** The token secret, read on every call (a rotated file is used). */
  tokenSecret: () => string;
  tls: ProxmoxTls;
  template: number;
  /** Full clone to this storage; without it the clone is linked (Proxmox's default for templates). */
  storage?: string;
  bridge: string;
  /** Seconds a graceful shutdown may take before the hard stop. */
  shutdownTimeoutS?: number;
  /** How long to wait for the container's address after start (on `clock`). */
  addressTimeoutMs?: number;
  deliver?: DeliverAgentCredentials;
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  random?: () => number;
  timeoutMs?: number;
  taskTimeoutMs?: number;
  logger?: Logger;
}

/** One row of GET /nodes/{node}/lxc. */
interface ListedCt {
  vmid: number | string;
  name?: string;
  status?: string;
  tags?: string;
  template?: number;
}

interface CtConfig {
  hostname?: string;
  description?: string;
  tags?: string;
  cores?: number;
  memory?: number;
  rootfs?: string;
  lock?: string;
}

interface Interface {
  name?: string;
  inet?: string;
  "ip-addresses"?: { "ip-address"?: string; "ip-address-type"?: string }[];
}

export class ProxmoxWorkloadProvider implements WorkloadProvider {
  readonly name = "proxmox";
  private readonly api: ProxmoxApi;
  private readonly clock: Clock;
  private readonly deliver: DeliverAgentCredentials;
  private readonly logger?: Logger;
  private readonly lxc: string;

  constructor(private readonly o: ProxmoxOptions) {
    this.clock = o.clock ?? realClock;
    const policy = { ...DEFAULT_RETRY, ...o.retry };
    this.logger = o.logger?.child({ provider: "workload/proxmox" });
    this.api = new ProxmoxApi({ url: o.url, tokenId: o.tokenId, secret: o.tokenSecret, tls: o.tls, clock: this.clock, policy, random: o.random, timeoutMs: o.timeoutMs, taskTimeoutMs: o.taskTimeoutMs, logger: this.logger });
    this.deliver = o.deliver ?? pushDelivery({ clock: this.clock, policy });
    this.lxc = `/nodes/${encodeURIComponent(o.node)}/lxc`;
  }

  async observe(owners: readonly Owner[]): Promise<ObservedWorkload[]> {
    if (owners.length === 0) return [];
    const listed = await this.listCts();
    const out: ObservedWorkload[] = [];
    for (const owner of owners) {
      // Tagged by uid, or (a crash right after the clone) untagged with the owner's hostname.
      const candidates = listed.filter((c) => tagsOf(c.tags).includes(uidTag(owner)) || (!tagsOf(c.tags).includes(ZLH_TAG) && c.name === owner.name));
      for (const c of candidates) {
        const w = await this.observeVmid(Number(c.vmid));
        if (w && w.ownerMark === ownerMark(owner)) {
          out.push(w);
          break;
        }
      }
    }
    return out;
  }

  async list(): Promise<ObservedWorkload[]> {
    const listed = (await this.listCts()).filter((c) => tagsOf(c.tags).includes(ZLH_TAG));
    const out: ObservedWorkload[] = [];
    for (const c of listed) {
      const w = await this.observeVmid(Number(c.vmid));
      if (w) out.push(w);
    }
    return out;
  }

  async create(d: DesiredWorkload): Promise<ObservedWorkload> {
    this.validate(d);
    const mark = ownerMark(d.owner);
    const listed = await this.listCts();
    const other = listed.find((c) => Number(c.vmid) !== d.vmid && tagsOf(c.tags).includes(uidTag(d.owner)));
    if (other) throw new ProviderError("Conflict", `workload ${mark} already exists as ${proxmoxId(d.owner, Number(other.vmid))}; not cloning a second`);
    if (listed.some((c) => Number(c.vmid) === d.vmid)) {
      await this.assertOurs(d.vmid, d.owner);
      this.logger?.info({ op: "create", vmid: d.vmid, owner: mark }, "adopting the container already at this vmid");
    } else {
      await this.clone(d);
    }
    return this.converge(d);
  }

  async start(id: string): Promise<ObservedWorkload> {
    const vmid = vmidOfId(id);
    const w = await this.observeVmid(vmid);
    if (!w || !idMatches(id, readOwner(w), vmid)) throw new ProviderError("NotFound", `workload ${id}: no container of ours at vmid ${vmid} on ${this.o.node}`);
    if (w.running) return w;
    await this.api.task(`start CT ${vmid}`, "POST", `${this.lxc}/${vmid}/status/start`);
    return this.withAddress(vmid);
  }

  async update(id: string, d: DesiredWorkload): Promise<ObservedWorkload> {
    this.validate(d);
    const vmid = vmidOfId(id);
    const w = await this.observeVmid(vmid);
    if (!w || !idMatches(id, readOwner(w), vmid)) throw new ProviderError("NotFound", `workload ${id}: no container of ours at vmid ${vmid} on ${this.o.node}`);
    if (w.ownerMark !== ownerMark(d.owner) || d.vmid !== vmid) throw new ProviderError("Conflict", `workload ${id} belongs to ${w.ownerMark}, not ${ownerMark(d.owner)}`);
    return this.converge(d);
  }

  async delete(id: string): Promise<void> {
    const vmid = vmidOfId(id);
    const config = await this.config(vmid);
    if (!config) return;
    const marks = readDescription(config.description);
    if (!idMatches(id, marks.owner, vmid)) {
      throw new ProviderError("Conflict", `CT ${vmid} (${config.hostname ?? "?"}) is not workload ${id}: its description has no matching zlh owner mark; not deleting it`);
    }
    await this.stop(vmid);
    try {
      await this.api.task(`destroy CT ${vmid}`, "DELETE", `${this.lxc}/${vmid}`, { purge: 1, "destroy-unreferenced-disks": 1 });
    } catch (err) {
      if (err instanceof ProxmoxApiError && err.reason === "NotFound") return;
      throw err;
    }
  }

  /** Configures, starts and hands the agent its credentials; each step is safe to repeat. */
  private async converge(d: DesiredWorkload): Promise<ObservedWorkload> {
    const vmid = d.vmid;
    const config = (await this.config(vmid)) ?? {};
    const tags = [...new Set([...tagsOf(config.tags).filter((t) => !t.startsWith("zlh-uid-")), ZLH_TAG, uidTag(d.owner)])].join(";");
    const delivered = readDescription(config.description).deliveredUrl;
    await this.api.put(`configure CT ${vmid}`, `${this.lxc}/${vmid}/config`, {
      hostname: d.hostname,
      cores: d.resources.cpu,
      memory: d.resources.memoryMiB,
      net0: `name=eth0,bridge=${this.o.bridge},ip=dhcp`,
      tags,
      description: description(d.owner, delivered),
    });
    const size = rootfsGiB(config.rootfs);
    if (size === undefined || size < d.resources.diskGiB) {
      await this.api.task(`resize CT ${vmid}`, "PUT", `${this.lxc}/${vmid}/resize`, { disk: "rootfs", size: `${d.resources.diskGiB}G` });
    }
    const status = await this.api.get<{ status?: string }>(`status of CT ${vmid}`, `${this.lxc}/${vmid}/status/current`);
    if (status.status !== "running") await this.api.task(`start CT ${vmid}`, "POST", `${this.lxc}/${vmid}/status/start`);
    const w = await this.withAddress(vmid);
    await this.deliver({ vmid, hostname: d.hostname, ip: w.ip!, resource: resourcePath(d.owner), controllerUrl: d.agent.controllerUrl, token: d.agent.token });
    // Recorded only after the agent has it, so a crash before this line re-delivers.
    await this.api.put(`configure CT ${vmid}`, `${this.lxc}/${vmid}/config`, { description: description(d.owner, d.agent.controllerUrl) });
    return { ...w, controllerUrl: d.agent.controllerUrl };
  }

  private async clone(d: DesiredWorkload): Promise<void> {
    const full = this.o.storage !== undefined;
    try {
      await this.api.task(`clone template ${this.o.template} to CT ${d.vmid}`, "POST", `${this.lxc}/${this.o.template}/clone`, {
        newid: d.vmid,
        hostname: d.hostname,
        description: description(d.owner),
        ...(full ? { full: 1, storage: this.o.storage } : {}),
      });
    } catch (err) {
      // Someone took the vmid between our list and the clone (or a retried clone landed).
      if (err instanceof ProxmoxApiError && err.reason === "Conflict") {
        await this.assertOurs(d.vmid, d.owner);
        return;
      }
      throw err;
    }
  }

  private async assertOurs(vmid: number, owner: Owner): Promise<void> {
    const config = await this.config(vmid);
    const found = readDescription(config?.description).mark;
    if (found !== ownerMark(owner)) {
      const whose = found ? `workload ${found}` : "a container without zlh's owner mark";
      throw new ProviderError("Conflict", `vmid ${vmid} on ${this.o.node} is taken by ${whose} (${config?.hostname ?? "?"}); not touching it`);
    }
  }

  /** Shutdown with a timeout, then a hard stop if the container is still running. */
  private async stop(vmid: number): Promise<void> {
    const status = await this.api.get<{ status?: string }>(`status of CT ${vmid}`, `${this.lxc}/${vmid}/status/current`);
    if (status.status !== "running") return;
    try {
      await this.api.task(`shut down CT ${vmid}`, "POST", `${this.lxc}/${vmid}/status/shutdown`, { timeout: this.o.shutdownTimeoutS ?? 30 });
    } catch (err) {
      this.logger?.warn({ op: "shutdown", vmid, err: (err as Error).message }, "graceful shutdown failed; stopping");
    }
    const again = await this.api.get<{ status?: string }>(`status of CT ${vmid}`, `${this.lxc}/${vmid}/status/current`);
    if (again.status === "running") await this.api.task(`stop CT ${vmid}`, "POST", `${this.lxc}/${vmid}/status/stop`);
  }

  /** The observed workload once it has an address (DHCP takes a few seconds after start). */
  private async withAddress(vmid: number): Promise<ObservedWorkload> {
    const started = this.clock.now();
    const limit = this.o.addressTimeoutMs ?? 120_000;
    for (let poll = 1; ; poll++) {
      const w = await this.observeVmid(vmid);
      if (!w) throw new ProviderError("NotFound", `CT ${vmid} disappeared while starting`);
      if (w.ip) return w;
      if (!w.running) throw new ProviderError("Unavailable", `CT ${vmid} stopped right after starting; see its task log on ${this.o.node}`);
      if (this.clock.now() - started >= limit) throw new ProviderError("Unavailable", `CT ${vmid} has no IPv4 address on eth0 after ${Math.round(limit / 1000)} s (is DHCP serving bridge ${this.o.bridge}?)`);
      await this.clock.sleep(Math.min(5_000, 250 * 2 ** (poll - 1)));
    }
  }

  private async observeVmid(vmid: number): Promise<ObservedWorkload | undefined> {
    const config = await this.config(vmid);
    const marks = readDescription(config?.description);
    if (!config || !marks.owner || !marks.mark) return undefined;
    const status = await this.api.get<{ status?: string }>(`status of CT ${vmid}`, `${this.lxc}/${vmid}/status/current`);
    const running = status.status === "running";
    const ip = running ? await this.address(vmid) : undefined;
    const disk = rootfsGiB(config.rootfs);
    return {
      id: proxmoxId(marks.owner, vmid),
      vmid,
      node: this.o.node,
      ...(ip ? { ip } : {}),
      running,
      ownerMark: marks.mark,
      ...(config.cores !== undefined && config.memory !== undefined && disk !== undefined ? { resources: { cpu: Number(config.cores), memoryMiB: Number(config.memory), diskGiB: disk } } : {}),
      // "" (never delivered) differs from every desired URL, so the reconciler re-delivers.
      controllerUrl: marks.deliveredUrl ?? "",
    };
  }

  private async address(vmid: number): Promise<string | undefined> {
    const ifaces = await this.api.get<Interface[] | null>(`interfaces of CT ${vmid}`, `${this.lxc}/${vmid}/interfaces`);
    for (const i of ifaces ?? []) {
      if (i.name === "lo") continue;
      const v4 = i["ip-addresses"]?.find((a) => a["ip-address-type"] === "inet")?.["ip-address"] ?? i.inet?.split("/")[0];
      if (v4) return v4;
    }
    return undefined;
  }

  private async config(vmid: number): Promise<CtConfig | undefined> {
    try {
      return await this.api.get<CtConfig>(`config of CT ${vmid}`, `${this.lxc}/${vmid}/config`);
    } catch (err) {
      if (err instanceof ProxmoxApiError && err.reason === "NotFound") return undefined;
      throw err;
    }
  }

  private async listCts(): Promise<ListedCt[]> {
    const rows = await this.api.get<ListedCt[] | null>("list containers", this.lxc);
    return (rows ?? []).filter((r) => !r.template);
  }

  private validate(d: DesiredWorkload): void {
    const mark = ownerMark(d.owner);
    if (!Number.isInteger(d.vmid) || d.vmid < 100 || d.vmid > 999_999_999) throw new ProviderError("Invalid", `workload ${mark}: vmid ${d.vmid} is not a Proxmox vmid (an integer 100-999999999)`);
    if (d.vmid === this.o.template) throw new ProviderError("Invalid", `workload ${mark}: vmid ${d.vmid} is the template`);
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(d.hostname)) throw new ProviderError("Invalid", `workload ${mark}: hostname ${JSON.stringify(d.hostname)} must be a DNS-1123 label`);
    if (!/^https?:\/\/\S+$/.test(d.agent.controllerUrl)) throw new ProviderError("Invalid", `workload ${mark}: agent.controllerUrl must be an http(s) URL`);
    if (!d.agent.token || /[\r\n]/.test(d.agent.token)) throw new ProviderError("Invalid", `workload ${mark}: agent.token must be a non-empty single line`);
    if (d.resources.cpu < 1 || !Number.isInteger(d.resources.cpu)) throw new ProviderError("Invalid", `workload ${mark}: cpu ${d.resources.cpu} must be a whole number of cores for Proxmox`);
  }
}

function readOwner(w: ObservedWorkload): Owner | undefined {
  return readDescription(`zerolaghub.dev/owner=${w.ownerMark}`).owner;
}
