// The embedded workload provider: a workload is a directory under `root` plus one agent
// process, the same shape a container has (own root, own IP, an agent inside), on any host
// without container tooling. Agents are detached on purpose: like containers, they keep
// running across a controller restart, and the next controller adopts them through the
// marker file.
import { spawn } from "node:child_process";
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync } from "node:fs";
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
import { LocalIsolation, type IsolationOptions, type WorkloadConfinement } from "./local-isolation.js";
import { AGENT_MARK_VARIABLE, removeWorkloadDir, stopWorkloadProcesses } from "./local-teardown.js";
import { isSameProcess, processStartTime, processesWithEnv } from "./proc-stat.js";
import type { DesiredWorkload, ObservedWorkload, WorkloadProvider, WorkloadResources } from "./types.js";
import { assertValidDesired, assertWorkloadId, resourcePath, WORKLOAD_ID, workloadId } from "./workload-rules.js";

export const MARKER_FILE = ".zlh-workload.json";
export const TOKEN_FILE = "etc/zlh/token";
/** The controller URL, for the agent to re-read when the controller moved (ZLH_CONTROLLER_URL_FILE). */
export const CONTROLLER_URL_FILE = "etc/zlh/controller-url";
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
  /** The user its workload processes run as, when it has one of its own (local-isolation.ts). */
  runAs?: { uid: number; gid: number };
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
  /** Own uids, sandbox and the directories workloads must not see (local-isolation.ts). */
  isolation?: IsolationOptions;
  /** Tests only: whether bwrap works (default: try it). */
  probeSandbox?: () => { ok: boolean; detail: string };
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
  private readonly isolation: LocalIsolation;

  constructor(options: LocalWorkloadOptions) {
    this.root = options.root;
    this.agentCommand = options.agentCommand ?? defaultAgentCommand();
    if (this.agentCommand.length === 0) throw new ProviderError("Invalid", "agentCommand must not be empty");
    this.node = options.node ?? osHostname();
    this.logger = options.logger?.child({ provider: "workload/local" });
    this.stopGraceMs = options.stopGraceMs ?? 40_000;
    this.clock = options.clock ?? realClock;
    this.addresses = new AddressBlock(this.root, this.logger);
    const hide = options.isolation?.hide ?? [];
    if (hide.some((h) => h.includes(":"))) throw new ProviderError("Invalid", `isolation.hide: paths must not contain ':' (${hide.join(", ")})`);
    this.isolation = new LocalIsolation({ ...options.isolation, hide }, this.logger, options.probeSandbox);
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
        // Before anything exists: a workload that may not start here is not half made.
        const confinement = this.isolation.confinementOf(desired.vmid);
        const ip = await this.addresses.addressFor(desired.vmid, new Set(existing.map((w) => w.ip!)));
        const dir = this.dirOf(id);
        try {
          mkdirSync(join(dir, "etc/zlh"), { recursive: true, mode: 0o700 });
          mkdirSync(join(dir, WORKSPACE), { recursive: true });
          mkdirSync(join(dir, "var/log"), { recursive: true });
        } catch (err) {
          throw ioError("cannot create workload directory", dir, err);
        }
        this.writeAgentFiles(dir, desired.agent);
        const marker: WorkloadMarker = {
          ownerMark: mark,
          vmid: desired.vmid,
          ip,
          hostname: desired.hostname,
          node: this.node,
          resource: resourcePath(desired.owner),
          controllerUrl: desired.agent.controllerUrl,
          resources: { ...desired.resources },
          ...(confinement.runAs ? { runAs: confinement.runAs } : {}),
        };
        // The marker goes down before the agent starts: a crash in between leaves a workload
        // that observe() finds (not running), so the next reconcile starts it, not a twin.
        this.writeMarker(dir, marker);
        this.logger?.info({ workload: id, owner: mark, ip: marker.ip }, "workload created");
        return this.startAgent(id, dir, marker, confinement);
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
      return this.startAgent(id, dir, marker, this.isolation.confinementOf(marker.vmid));
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
      // The running agent re-reads both when a controller request fails (a 401, a refused
      // connection), so it finds a restarted controller on a new port without a restart.
      this.writeAgentFiles(dir, desired.agent);
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
      await stopWorkloadProcesses(dir, marker.agent, { graceMs: this.stopGraceMs, clock: this.clock, ...(this.logger ? { logger: this.logger } : {}) });
      removeWorkloadDir(dir, MARKER_FILE, markerText(marker));
      this.logger?.info({ workload: id }, "workload deleted");
    });
  }

  /** The token and the controller URL, readable by the agent only (0600 in a 0700 etc/zlh). */
  private writeAgentFiles(dir: string, agent: DesiredWorkload["agent"]): void {
    writeFileAtomic(join(dir, TOKEN_FILE), agent.token, { mode: 0o600 });
    writeFileAtomic(join(dir, CONTROLLER_URL_FILE), agent.controllerUrl + "\n", { mode: 0o600 });
  }

  private async startAgent(id: string, dir: string, marker: WorkloadMarker, confinement: WorkloadConfinement): Promise<ObservedWorkload> {
    const owner = parseOwnerMark(marker.ownerMark)!;
    const env: NodeJS.ProcessEnv = {};
    // The controller's own ZLH_* settings are not the agent's business.
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("ZLH_")) env[k] = v;
    Object.assign(env, {
      ZLH_CONTROLLER_URL: marker.controllerUrl,
      ZLH_CONTROLLER_URL_FILE: join(dir, CONTROLLER_URL_FILE),
      ZLH_TOKEN_FILE: join(dir, TOKEN_FILE),
      ZLH_RESOURCE: resourcePath(owner),
      ZLH_ROOT: dir,
      ZLH_IP: marker.ip,
      ZLH_HOSTNAME: marker.hostname,
      ZLH_VMID: String(marker.vmid),
      ...this.isolation.environment(confinement),
    });
    // An agent the marker does not name may still run (spawned just before a crash): adopt
    // it, or this workload would get two agents and two servers on one address.
    const stray = processesWithEnv(AGENT_MARK_VARIABLE, dir).find((p) => p.pgrp === p.pid);
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
    writeFileAtomic(join(dir, MARKER_FILE), markerText(marker), { mode: 0o644 });
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

function markerText(m: WorkloadMarker): string {
  return JSON.stringify(m, null, 2) + "\n";
}

function isRunning(m: WorkloadMarker): boolean {
  return m.agent !== undefined && isSameProcess(m.agent.pid, m.agent.startTime);
}

function toObserved(id: string, m: WorkloadMarker): ObservedWorkload {
  return { id, vmid: m.vmid, node: m.node, ip: m.ip, running: isRunning(m), ownerMark: m.ownerMark, resources: m.resources, controllerUrl: m.controllerUrl };
}
