// A contract fake of the Proxmox VE API for LXC (../shared/reference APIS.md §c, from
// proxmox/pve-container and pve-manager): HTTPS with a self-signed certificate, the
// `PVEAPIToken=USER@REALM!ID=SECRET` header (401 otherwise), `{data: …}` envelopes, errors in
// the status line with `{data:null, message}` (and `errors` for 400), async calls returning
// UPIDs whose tasks run for a few polls, the clone lock, "CT N already exists", and a
// stand-in for the template's agent bootstrap receiver. Fault injection: failing tasks,
// failing HTTP replies, a lingering lock, latency.
import { createSelfSignedCertificate } from "../../src/api/self-signed-cert.js";
import { startRecordingServer, type FakeReply, type RecordedRequest, type RecordingServer } from "./recording-server.js";

export interface FakeCt {
  vmid: number;
  status: "running" | "stopped";
  template: boolean;
  lock?: string;
  config: Record<string, string | number>;
  ip?: string;
  /** What the bootstrap receiver got for this container. */
  agent?: { token: string; controllerUrl: string; resource: string; deliveries: number };
  starts: number;
}

interface FakeTask {
  upid: string;
  type: string;
  vmid: number;
  pollsLeft: number;
  exitstatus: string;
  log: string[];
  done: boolean;
  effect: () => void;
}

export interface ProxmoxFakeOptions {
  node?: string;
  tokenId?: string;
  secret?: string;
  /** Template vmid (a stopped template CT exists there). */
  template?: number;
  /** Polls a task reports "running" before it stops. */
  taskPolls?: number;
}

const PARAMS: Record<string, string[]> = {
  clone: ["newid", "hostname", "description", "pool", "snapname", "storage", "full", "target", "bwlimit"],
  config: ["hostname", "cores", "memory", "swap", "net0", "tags", "description", "onboot", "delete", "digest", "rootfs"],
  resize: ["disk", "size", "digest"],
  shutdown: ["timeout", "forceStop"],
  stop: ["skiplock", "overrule-shutdown"],
  start: ["skiplock"],
};

const fail = (status: number, message: string, errors?: Record<string, string>): FakeReply => ({ status, statusText: message, body: { data: null, message: `${message}\n`, ...(errors ? { errors } : {}) } });
const ok = (data: unknown): FakeReply => ({ status: 200, body: { data } });

export class ProxmoxFake {
  readonly node: string;
  readonly tokenId: string;
  secret: string;
  readonly template: number;
  readonly cts = new Map<number, FakeCt>();
  readonly tasks = new Map<string, FakeTask>();
  readonly ca: string;
  server!: RecordingServer;
  receiver!: RecordingServer;
  private readonly key: string;
  private taskPolls: number;
  private pid = 1000;
  private failures: { n: number; status: number; message: string; match?: RegExp }[] = [];
  private taskFailures: { type: string; exitstatus: string }[] = [];
  /** Requests a finished clone's lock is still held for (another task finishing up). */
  lingeringLock = 0;
  latencyMs = 0;

  constructor(o: ProxmoxFakeOptions = {}) {
    this.node = o.node ?? "pve1";
    this.tokenId = o.tokenId ?? "zlh@pve!controller";
    this.secret = o.secret ?? "3f1c2d9e-pve-secret-77aa";
    this.template = o.template ?? 9000;
    this.taskPolls = o.taskPolls ?? 2;
    const now = Date.now();
    const pair = createSelfSignedCertificate({ commonName: "pve1", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 86_400_000) });
    this.key = pair.keyPem;
    this.ca = pair.certPem;
    this.cts.set(this.template, { vmid: this.template, status: "stopped", template: true, config: { hostname: "zlh-template", cores: 1, memory: 512, rootfs: "local-lvm:base-9000-disk-0,size=4G", arch: "amd64", ostype: "debian", template: 1 }, starts: 0 });
  }

  get url(): string {
    return this.server.url;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  async start(): Promise<this> {
    this.server = await startRecordingServer((r) => this.handle(r), { tls: { key: this.key, cert: this.ca } });
    this.receiver = await startRecordingServer((r) => this.receive(r));
    return this;
  }

  async close(): Promise<void> {
    await this.server.close();
    await this.receiver.close();
  }

  /** The next `n` requests (matching `match` on "METHOD path", if given) fail with this status. */
  failNext(n: number, status: number, message: string, match?: RegExp): void {
    this.failures.push({ n, status, message, match });
  }

  /** The next task of `type` (vzclone, vzstart, …) ends with this exit status. */
  failTask(type: string, exitstatus: string): void {
    this.taskFailures.push({ type, exitstatus });
  }

  /** A container made by hand in the web console (not ours). */
  seed(vmid: number, config: Record<string, string | number>, status: "running" | "stopped" = "running"): void {
    this.cts.set(vmid, { vmid, status, template: false, config: { cores: 1, memory: 512, rootfs: `local-lvm:vm-${vmid}-disk-0,size=8G`, ...config }, ip: status === "running" ? this.ipFor(vmid) : undefined, starts: 0 });
  }

  /** The container stops behind the provider's back (its agent is gone with it). */
  crash(vmid: number): void {
    const ct = this.cts.get(vmid);
    if (ct) Object.assign(ct, { status: "stopped", ip: undefined });
  }

  calls(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path));
  }

  ipFor(vmid: number): string {
    return `10.10.${(vmid >> 8) & 255}.${vmid & 255}`;
  }

  private receive(r: RecordedRequest): FakeReply {
    if (r.method !== "PUT" || r.path !== "/zlh/v1/credentials") return { status: 404, statusText: "Not Found" };
    const b = JSON.parse(r.body) as { vmid: number; token: string; controllerUrl: string; resource: string };
    const ct = this.cts.get(b.vmid);
    // The receiver lives inside the container: a stopped one cannot answer.
    if (!ct || ct.status !== "running") return { status: 503, statusText: "container not running" };
    ct.agent = { token: b.token, controllerUrl: b.controllerUrl, resource: b.resource, deliveries: (ct.agent?.deliveries ?? 0) + 1 };
    return { status: 204 };
  }

  private async handle(r: RecordedRequest): Promise<FakeReply> {
    if (this.latencyMs) await new Promise((res) => setTimeout(res, this.latencyMs));
    if (r.headers.authorization !== `PVEAPIToken=${this.tokenId}=${this.secret}`) return fail(401, "authentication failure");
    const f = this.failures.find((x) => x.n > 0 && (!x.match || x.match.test(`${r.method} ${r.path}`)));
    if (f) {
      f.n--;
      return fail(f.status, f.message);
    }
    const base = `/api2/json/nodes/${this.node}`;
    if (r.method === "GET" && r.path === "/api2/json/cluster/nextid") return this.nextId(r);
    const task = new RegExp(`^${base}/tasks/([^/]+)/(status|log)$`).exec(r.path);
    if (task) return this.taskCall(task[1]!, task[2]!);
    if (r.path === `${base}/lxc`) return r.method === "GET" ? this.list() : fail(501, `Method '${r.method} /nodes/${this.node}/lxc' not implemented`);
    const m = new RegExp(`^${base}/lxc/(\\d+)(/[a-z/]+)?$`).exec(r.path);
    if (!m) return fail(501, `Method '${r.method} ${r.path.replace("/api2/json", "")}' not implemented`);
    const vmid = Number(m[1]);
    const sub = m[2] ?? "";
    const ct = this.cts.get(vmid);
    if (!ct) return fail(500, `Configuration file 'nodes/${this.node}/lxc/${vmid}.conf' does not exist`);
    const key = `${r.method} ${sub}`;
    const op = sub.split("/").pop() ?? "";
    const unknown = PARAMS[op === "current" ? "" : op] ? [...r.params.keys()].filter((k) => !PARAMS[op]!.includes(k)) : [];
    if (unknown.length) return fail(400, "Parameter verification failed.", Object.fromEntries(unknown.map((k) => [k, "property is not defined in schema and the schema does not allow additional properties"])));
    if (this.lingeringLock > 0 && key !== "GET /config" && key !== "GET /status/current") {
      this.lingeringLock--;
      return fail(500, `can't lock file '/run/lock/lxc/pve-config-${vmid}.conf' - got timeout`);
    }
    switch (key) {
      case "GET /config":
        return ok({ ...ct.config, ...(ct.lock ? { lock: ct.lock } : {}), digest: "d1" });
      case "PUT /config":
        return this.putConfig(ct, r.params);
      case "GET /status/current":
        return ok({ vmid, status: ct.status, name: ct.config.hostname, ...(ct.lock ? { lock: ct.lock } : {}), tags: ct.config.tags, cpus: ct.config.cores, maxmem: Number(ct.config.memory) * 1048576, uptime: ct.status === "running" ? 10 : 0 });
      case "GET /interfaces":
        if (ct.status !== "running") return fail(500, `CT ${vmid} not running`);
        return ok([{ name: "lo", inet: "127.0.0.1/8", hwaddr: "00:00:00:00:00:00" }, { name: "eth0", inet: `${ct.ip}/24`, hwaddr: "bc:24:11:00:00:01", "ip-addresses": [{ "ip-address": ct.ip, "ip-address-type": "inet", prefix: 24 }] }]);
      case "POST /clone":
        return this.clone(ct, r.params);
      case "PUT /resize":
        return this.locked(ct) ?? this.spawnTask("resize", vmid, () => (ct.config.rootfs = String(ct.config.rootfs).replace(/size=[^,]+/, `size=${r.params.get("size")}`)));
      case "POST /status/start":
        if (ct.template) return fail(500, `CT ${vmid} is a template`);
        return this.locked(ct) ?? (ct.status === "running" ? fail(500, `CT ${vmid} already running`) : this.spawnTask("vzstart", vmid, () => Object.assign(ct, { status: "running", ip: this.ipFor(vmid), starts: ct.starts + 1 })));
      case "POST /status/shutdown":
      case "POST /status/stop":
        return this.locked(ct) ?? this.spawnTask(op === "stop" ? "vzstop" : "vzshutdown", vmid, () => Object.assign(ct, { status: "stopped", ip: undefined }));
      case "DELETE ":
        if (ct.status === "running") return fail(500, `CT ${vmid} is running - destroy failed`);
        return this.locked(ct) ?? this.spawnTask("vzdestroy", vmid, () => this.cts.delete(vmid));
      default:
        return fail(501, `Method '${r.method} /nodes/${this.node}/lxc/${vmid}${sub}' not implemented`);
    }
  }

  private locked(ct: FakeCt): FakeReply | undefined {
    return ct.lock ? fail(500, `CT ${ct.vmid} is locked (${ct.lock})`) : undefined;
  }

  private list(): FakeReply {
    const rows = [...this.cts.values()].map((c) => ({ vmid: c.vmid, name: c.config.hostname, status: c.status, ...(c.config.tags ? { tags: c.config.tags } : {}), ...(c.template ? { template: 1 } : {}), ...(c.lock ? { lock: c.lock } : {}), maxmem: Number(c.config.memory) * 1048576, cpus: c.config.cores, type: "lxc" }));
    return ok(rows);
  }

  private nextId(r: RecordedRequest): FakeReply {
    const asked = r.params.get("vmid");
    if (asked) return this.cts.has(Number(asked)) ? fail(400, `VM ${asked} already exists`) : ok(asked);
    let id = 100;
    while (this.cts.has(id)) id++;
    return ok(String(id));
  }

  private putConfig(ct: FakeCt, p: URLSearchParams): FakeReply {
    const locked = this.locked(ct);
    if (locked) return locked;
    for (const [k, v] of p) {
      if (k === "digest") continue;
      if (k === "delete") for (const d of v.split(/[,;\s]+/)) delete ct.config[d];
      else if (k === "tags") {
        const tags = v.split(/[;,\s]+/).filter(Boolean);
        const bad = tags.find((t) => !/^[a-z0-9_][a-z0-9_\-+.]*$/i.test(t));
        if (bad) return fail(400, "Parameter verification failed.", { tags: `invalid format - invalid tag '${bad}'` });
        ct.config.tags = tags.join(";");
      } else ct.config[k] = /^\d+$/.test(v) && (k === "cores" || k === "memory") ? Number(v) : v;
    }
    return ok(null);
  }

  private clone(src: FakeCt, p: URLSearchParams): FakeReply {
    const newid = Number(p.get("newid"));
    if (!Number.isInteger(newid) || newid < 100) return fail(400, "Parameter verification failed.", { newid: "value must have a minimum value of 100" });
    if (!src.template && p.get("full") !== "1") return fail(500, `parameter 'full' is required when cloning a container that is not a template`);
    if (this.cts.has(newid)) return fail(500, `unable to create CT ${newid} - CT ${newid} already exists on node '${this.node}'`);
    const config: Record<string, string | number> = { ...src.config, hostname: p.get("hostname") ?? `CT${newid}` };
    delete config.template;
    const description = p.get("description");
    if (description !== null) config.description = description;
    const disk = p.get("full") === "1" ? `${p.get("storage") ?? "local-lvm"}:vm-${newid}-disk-0` : `local-lvm:base-${this.template}-disk-0/vm-${newid}-disk-0`;
    config.rootfs = String(src.config.rootfs).replace(/^[^,]+/, disk);
    // Proxmox writes the new config at once, locked until the copy is done.
    const ct: FakeCt = { vmid: newid, status: "stopped", template: false, lock: "create", config, starts: 0 };
    this.cts.set(newid, ct);
    return this.spawnTask("vzclone", src.vmid, () => delete ct.lock, () => {
      this.cts.delete(newid);
    });
  }

  private spawnTask(type: string, vmid: number, effect: () => void, undo?: () => void): FakeReply {
    const upid = `UPID:${this.node}:${(++this.pid).toString(16).toUpperCase().padStart(8, "0")}:0001A2B3:6758C0DE:${type}:${vmid}:${this.tokenId}:`;
    const failure = this.taskFailures.findIndex((f) => f.type === type);
    const exitstatus = failure >= 0 ? this.taskFailures.splice(failure, 1)[0]!.exitstatus : "OK";
    const log = [`task ${type} for ${vmid} started`, ...(exitstatus === "OK" ? [] : [`${exitstatus}`]), `TASK ${exitstatus === "OK" ? "OK" : `ERROR: ${exitstatus}`}`];
    this.tasks.set(upid, { upid, type, vmid, pollsLeft: this.taskPolls, exitstatus, log, done: false, effect: exitstatus === "OK" ? effect : () => undo?.() });
    return ok(upid);
  }

  private taskCall(upid: string, what: string): FakeReply {
    const t = this.tasks.get(upid);
    if (!t) return fail(500, `unable to open file - no such task '${upid}'`);
    if (what === "log") return ok(t.log.map((text, i) => ({ n: i + 1, t: text })));
    if (t.pollsLeft > 0) t.pollsLeft--;
    if (t.pollsLeft === 0 && !t.done) {
      t.done = true;
      t.effect();
    }
    const [, node, pid, pstart, starttime, type, id, user] = upid.split(":");
    return ok({ upid, node, pid: parseInt(pid!, 16), pstart: parseInt(pstart!, 16), starttime: parseInt(starttime!, 16), type, id, user, status: t.done ? "stopped" : "running", ...(t.done ? { exitstatus: t.exitstatus } : {}) });
  }
}

export async function startProxmoxFake(o: ProxmoxFakeOptions = {}): Promise<ProxmoxFake> {
  return new ProxmoxFake(o).start();
}
