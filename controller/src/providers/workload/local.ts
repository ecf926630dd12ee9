// The embedded workload provider: a workload is a directory under `root` plus one agent
// process, the same shape a container has (own root, own IP, an agent inside), on any host
// without container tooling. Agents are detached on purpose: like containers, they keep
// running across a controller restart, and the next controller adopts them through the
// marker file.
import { spawn } from "node:child_process";
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { realClock, type Clock } from "../../engine/clock.js";
import { agentBundlePath } from "../../project-paths.js";
import { writeFileAtomic } from "../atomic-write.js";
import { Mutex } from "../mutex.js";
import { ownerMark, parseOwnerMark, type Owner } from "../owner.js";
import { ioError, ProviderError } from "../provider-error.js";
import { AddressBlock } from "./address-block.js";
import { stopProcessGroup } from "./process-group.js";
import { isSameProcess, processStartTime, processesWithEnv } from "./proc-stat.js";
import type { DesiredWorkload, ObservedWorkload, WorkloadProvider, WorkloadResources } from "./types.js";
import { assertValidDesired, assertWorkloadId, resourcePath, WORKLOAD_ID, workloadId } from "./workload-rules.js";

export const MARKER_FILE = ".zlh-workload.json";
export const TOKEN_FILE = "etc/zlh/token";
export const AGENT_LOG = "var/log/agent.log";
/** Written by the agent: the server it supervises (see agent/src/pidfile.ts). */
export const SERVER_PIDFILE = "run/server.pid";
export const WORKSPACE = "home/dev/workspace";

/** What `<workload>/.zlh-workload.json` holds. No secrets: the token lives in its own 0600 file. */
export interface WorkloadMarker {
  ownerMark: string;
  vmid: number;
  ip: string;
  hostname: string;
  node: string;
  resource: string;
  controllerUrl: string;
  resources: WorkloadResources;
  /** The running agent: pid plus start time, so a recycled pid is not taken for it. */
  agent?: { pid: number; startTime: number };
}

export interface LocalWorkloadOptions {
  /** Directory holding one folder per workload. */
  root: string;
  /** argv of the agent; default `defaultAgentCommand()`. */
  agentCommand?: readonly string[];
  /** Reported as `ObservedWorkload.node`; default the host name. */
  node?: string;
  logger?: Logger;
  /** How long a deleted workload's agent gets after SIGTERM (default 40 s). */
  stopGraceMs?: number;
  clock?: Clock;
}

/** `node <checkout>/dist/agent/zlh-agent.mjs`: the bundled agent, plain JavaScript. */
export function defaultAgentCommand(): string[] {
  return [process.execPath, agentBundlePath()];
}

export class LocalWorkloadProvider implements WorkloadProvider {
  readonly name = "local";
  private readonly root: string;
  private readonly agentCommand: readonly string[];
  private readonly node: string;
  private readonly logger?: Logger;
  private readonly stopGraceMs: number;
  private readonly clock: Clock;
  // create checks owner and vmid uniqueness across all workloads; start/delete lock one id.
  private readonly createLock = new Mutex();
  private readonly idLocks = new Map<string, Mutex>();
  private readonly addresses: AddressBlock;

  constructor(options: LocalWorkloadOptions) {
    this.root = options.root;
    this.agentCommand = options.agentCommand ?? defaultAgentCommand();
    if (this.agentCommand.length === 0) throw new ProviderError("Invalid", "agentCommand must not be empty");
    this.node = options.node ?? osHostname();
    this.logger = options.logger?.child({ provider: "workload/local" });
    this.stopGraceMs = options.stopGraceMs ?? 40_000;
    this.clock = options.clock ?? realClock;
    this.addresses = new AddressBlock(this.root, this.logger);
  }

  async observe(owners: readonly Owner[]): Promise<ObservedWorkload[]> {
    const marks = new Set(owners.map(ownerMark));
    // Only directories named for these owners can hold their markers, so a reconcile reads
    // one or two markers, not one per workload on the host.
    const suffixes = new Set(owners.map((o) => `-${o.kind.toLowerCase()}-${o.namespace}-${o.name}`));
    const named = (id: string) => {
      const m = /^[0-9]+(-.*)$/.exec(id);
      return m !== null && suffixes.has(m[1]!);
    };
    return this.scan(named).filter((w) => marks.has(w.ownerMark));
  }

  async list(): Promise<ObservedWorkload[]> {
    return this.scan();
  }

  async create(desired: DesiredWorkload): Promise<ObservedWorkload> {
    assertValidDesired(desired);
    const id = workloadId(desired.owner, desired.vmid);
    const mark = ownerMark(desired.owner);
    return this.createLock.run(() =>
      this.lockFor(id).run(async () => {
        const existing = this.scan();
        for (const w of existing) {
          if (w.ownerMark === mark) throw new ProviderError("Conflict", `workload for ${mark} already exists as ${w.id}`);
          if (w.vmid === desired.vmid) throw new ProviderError("Conflict", `vmid ${desired.vmid} is already used by workload ${w.id}`);
        }
        const ip = await this.addresses.addressFor(desired.vmid, new Set(existing.map((w) => w.ip!)));
        const dir = this.dirOf(id);
        try {
          mkdirSync(join(dir, "etc/zlh"), { recursive: true, mode: 0o700 });
          mkdirSync(join(dir, WORKSPACE), { recursive: true });
          mkdirSync(join(dir, "var/log"), { recursive: true });
        } catch (err) {
          throw ioError("cannot create workload directory", dir, err);
        }
        writeFileAtomic(join(dir, TOKEN_FILE), desired.agent.token, { mode: 0o600 });
        const marker: WorkloadMarker = {
          ownerMark: mark,
          vmid: desired.vmid,
          ip,
          hostname: desired.hostname,
          node: this.node,
          resource: resourcePath(desired.owner),
          controllerUrl: desired.agent.controllerUrl,
          resources: { ...desired.resources },
        };
        // The marker goes down before the agent starts: a crash in between leaves a workload
        // that observe() finds (not running), so the next reconcile starts it, not a twin.
        this.writeMarker(dir, marker);
        this.logger?.info({ workload: id, owner: mark, ip: marker.ip }, "workload created");
        return this.startAgent(id, dir, marker);
      }),
    );
  }

  async start(id: string): Promise<ObservedWorkload> {
    assertWorkloadId(id);
    return this.lockFor(id).run(async () => {
      const dir = this.dirOf(id);
      const marker = this.readMarker(dir);
      if (!marker) throw new ProviderError("NotFound", `workload ${id} does not exist under ${this.root}`);
      if (isRunning(marker)) return toObserved(id, marker);
      return this.startAgent(id, dir, marker);
    });
  }

  async update(id: string, desired: DesiredWorkload): Promise<ObservedWorkload> {
    assertWorkloadId(id);
    assertValidDesired(desired);
    return this.lockFor(id).run(async () => {
      const dir = this.dirOf(id);
      const marker = this.readMarker(dir);
      if (!marker) throw new ProviderError("NotFound", `workload ${id} does not exist under ${this.root}`);
      if (marker.ownerMark !== ownerMark(desired.owner)) throw new ProviderError("Conflict", `workload ${id} belongs to ${marker.ownerMark}`);
      // Local workloads have no limits to resize; the marker records what was asked for.
      const next: WorkloadMarker = { ...marker, resources: { ...desired.resources }, controllerUrl: desired.agent.controllerUrl };
      writeFileAtomic(join(dir, TOKEN_FILE), desired.agent.token, { mode: 0o600 });
      if (JSON.stringify(next) !== JSON.stringify(marker)) this.writeMarker(dir, next);
      return toObserved(id, next);
    });
  }

  async delete(id: string): Promise<void> {
    assertWorkloadId(id);
    await this.deleteWorkload(id);
    // An empty root needs no address block: another server may have it meanwhile. Under the
    // create lock, so a create in progress never loses the claim it just made.
    await this.createLock.run(async () => {
      let left: number;
      try {
        left = this.scan().length;
      } catch {
        return; // keep the claim; the next delete or create will see the root again
      }
      if (left === 0) this.addresses.release();
    });
  }

  private async deleteWorkload(id: string): Promise<void> {
    return this.lockFor(id).run(async () => {
      const dir = this.dirOf(id);
      const marker = this.readMarker(dir);
      if (!marker) {
        if (lstatSync(dir, { throwIfNoEntry: false })) this.logger?.warn({ workload: id, dir }, "unmarked directory left alone");
        return;
      }
      if (marker.agent) {
        this.logger?.info({ workload: id, pid: marker.agent.pid }, "agent stopping");
        const { killed } = await stopProcessGroup(marker.agent.pid, marker.agent.startTime, {
          graceMs: this.stopGraceMs,
          clock: this.clock,
        });
        if (killed.length > 0) this.logger?.warn({ workload: id, pids: killed }, "agent killed after grace period");
      }
      // An agent the marker never recorded (see startAgent) dies with the workload too.
      for (const stray of processesWithEnv("ZLH_ROOT", dir).filter((p) => p.pgrp === p.pid)) {
        await stopProcessGroup(stray.pid, stray.startTime, { graceMs: this.stopGraceMs, clock: this.clock });
      }
      // A container's processes all die with it. The agent runs its server in a process group
      // of its own, so an agent killed without a graceful stop leaves the server running:
      // stop whatever the agent's pidfile names as well.
      const server = this.readServerPid(dir);
      if (server) {
        const { killed } = await stopProcessGroup(server.pid, server.startTime, { graceMs: this.stopGraceMs, clock: this.clock });
        if (killed.length > 0) this.logger?.warn({ workload: id, pids: killed }, "orphaned server killed");
      }
      try {
        // Marker first: a crash halfway leaves an unmarked directory, never a half-workload
        // that list() would report.
        rmSync(join(dir, MARKER_FILE), { force: true });
        rmSync(dir, { recursive: true, force: true });
      } catch (err) {
        throw ioError("cannot remove workload directory", dir, err);
      }
      this.logger?.info({ workload: id }, "workload deleted");
    });
  }

  /** The agent's record of its server (`run/server.pid`: `{pid, startTime}`), if any. */
  private readServerPid(dir: string): { pid: number; startTime: number } | undefined {
    try {
      const rec = JSON.parse(readFileSync(join(dir, SERVER_PIDFILE), "utf8")) as { pid?: unknown; startTime?: unknown };
      const startTime = Number(rec.startTime);
      return typeof rec.pid === "number" && Number.isInteger(startTime) ? { pid: rec.pid, startTime } : undefined;
    } catch {
      return undefined;
    }
  }

  private async startAgent(id: string, dir: string, marker: WorkloadMarker): Promise<ObservedWorkload> {
    const owner = parseOwnerMark(marker.ownerMark)!;
    const env: NodeJS.ProcessEnv = {};
    // The controller's own ZLH_* settings are not the agent's business.
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("ZLH_")) env[k] = v;
    Object.assign(env, {
      ZLH_CONTROLLER_URL: marker.controllerUrl,
      ZLH_TOKEN_FILE: join(dir, TOKEN_FILE),
      ZLH_RESOURCE: resourcePath(owner),
      ZLH_ROOT: dir,
      ZLH_IP: marker.ip,
      ZLH_HOSTNAME: marker.hostname,
      ZLH_VMID: String(marker.vmid),
    });
    // An agent the marker does not name may still run (spawned just before a crash): adopt
    // it, or this workload would get two agents and two servers on one address.
    const stray = processesWithEnv("ZLH_ROOT", dir).find((p) => p.pgrp === p.pid);
    if (stray) {
      const adopted: WorkloadMarker = { ...marker, agent: { pid: stray.pid, startTime: stray.startTime } };
      this.writeMarker(dir, adopted);
      this.logger?.warn({ workload: id, pid: stray.pid }, "unrecorded agent adopted");
      return toObserved(id, adopted);
    }
    const [command, ...args] = this.agentCommand as [string, ...string[]];
    const logPath = join(dir, AGENT_LOG);
    let log: number;
    try {
      log = openSync(logPath, "a", 0o640);
    } catch (err) {
      throw ioError("cannot open agent log", logPath, err);
    }
    let child;
    try {
      child = spawn(command, args, { detached: true, stdio: ["ignore", log, log], env, cwd: dir });
    } finally {
      closeSync(log); // the child has its own copy
    }
    try {
      await new Promise<void>((resolve, reject) => {
        child.once("spawn", resolve);
        child.once("error", reject);
      });
    } catch (err) {
      throw new ProviderError("Unavailable", `cannot start agent ${command} for workload ${id}: ${(err as Error).message}`, { cause: err });
    }
    child.on("error", () => undefined);
    child.unref();
    const pid = child.pid!;
    const startTime = processStartTime(pid);
    const next: WorkloadMarker = { ...marker };
    if (startTime === undefined) {
      delete next.agent;
      this.logger?.warn({ workload: id, pid, log: logPath }, "agent exited at once");
    } else {
      next.agent = { pid, startTime };
      this.logger?.info({ workload: id, pid }, "agent started");
    }
    this.writeMarker(dir, next);
    return toObserved(id, next);
  }

  private scan(include: (id: string) => boolean = () => true): ObservedWorkload[] {
    let entries: string[];
    try {
      entries = readdirSync(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw ioError("cannot list", this.root, err);
    }
    const found: ObservedWorkload[] = [];
    for (const id of entries.sort()) {
      if (!WORKLOAD_ID.test(id) || !include(id)) continue;
      const marker = this.readMarker(this.dirOf(id));
      if (marker) found.push(toObserved(id, marker));
    }
    return found;
  }

  private readMarker(dir: string): WorkloadMarker | undefined {
    const path = join(dir, MARKER_FILE);
    let text: string;
    try {
      if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return undefined;
      text = readFileSync(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw ioError("cannot read", path, err);
    }
    let m: Partial<WorkloadMarker>;
    try {
      m = JSON.parse(text) as Partial<WorkloadMarker>;
    } catch (err) {
      throw new ProviderError("ParseError", `${path}: ${(err as Error).message}`);
    }
    if (typeof m.ownerMark !== "string" || !parseOwnerMark(m.ownerMark) || typeof m.vmid !== "number" || typeof m.ip !== "string") {
      throw new ProviderError("ParseError", `${path}: ownerMark, vmid and ip are required`);
    }
    return m as WorkloadMarker;
  }

  private writeMarker(dir: string, marker: WorkloadMarker): void {
    writeFileAtomic(join(dir, MARKER_FILE), JSON.stringify(marker, null, 2) + "\n", { mode: 0o644 });
  }

  // WORKLOAD_ID has no '/' and no '..', so the directory is always a child of root.
  private dirOf(id: string): string {
    return join(this.root, id);
  }

  private lockFor(id: string): Mutex {
    let m = this.idLocks.get(id);
    if (!m) this.idLocks.set(id, (m = new Mutex()));
    return m;
  }
}

function isRunning(m: WorkloadMarker): boolean {
  return m.agent !== undefined && isSameProcess(m.agent.pid, m.agent.startTime);
}

function toObserved(id: string, m: WorkloadMarker): ObservedWorkload {
  return { id, vmid: m.vmid, node: m.node, ip: m.ip, running: isRunning(m), ownerMark: m.ownerMark, resources: m.resources, controllerUrl: m.controllerUrl };
}
