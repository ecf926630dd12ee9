import { pino } from "pino";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createSelfSignedCertificate } from "../../src/api/self-signed-cert.js";
import { DEFAULT_RETRY } from "../../src/providers/retry.js";
import { pushDelivery } from "../../src/providers/workload/agent-delivery.js";
import { ProxmoxWorkloadProvider, type ProxmoxOptions } from "../../src/providers/workload/proxmox.js";
import { AutoAdvanceClock } from "../fakes/auto-clock.js";
import { startProxmoxFake, type ProxmoxFake } from "../fakes/proxmox-fake.js";
import { rejection } from "./rejection.js";
import { alice, desired, mc1 } from "./workload-contract.js";

const fakes: ProxmoxFake[] = [];
afterEach(async () => {
  for (const f of fakes.splice(0)) await f.close();
});

function logSink(): { logger: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(c, _e, cb) {
      chunks.push(String(c));
      cb();
    },
  });
  return { logger: pino({ level: "debug" }, stream), text: () => chunks.join("") };
}

async function setup(extra: Partial<ProxmoxOptions> = {}) {
  const fake = await startProxmoxFake();
  fakes.push(fake);
  const clock = new AutoAdvanceClock();
  const log = logSink();
  const policy = { ...DEFAULT_RETRY };
  const provider = new ProxmoxWorkloadProvider({
    url: fake.url,
    node: fake.node,
    tokenId: fake.tokenId,
    tokenSecret: () => fake.secret,
    tls: { ca: fake.ca },
    template: fake.template,
    storage: "local-lvm",
    bridge: "vmbr0",
    clock,
    random: () => 0.5,
    logger: log.logger,
    deliver: pushDelivery({ receiverUrl: () => fake.receiver.url, clock, policy }),
    ...extra,
  });
  return { fake, clock, provider, log };
}

describe("ProxmoxWorkloadProvider against the contract fake", () => {
  it("clones, configures, starts and hands the agent its token outside the Proxmox API", async () => {
    const { fake, provider, log } = await setup();
    const d = desired(mc1, 105);
    const w = await provider.create(d);
    expect(w).toMatchObject({ id: "105-gameserver-default-mc1", vmid: 105, node: "pve1", ip: "10.10.0.105", running: true, ownerMark: `GameServer/default/mc1/${mc1.uid}`, resources: { cpu: 2, memoryMiB: 2048, diskGiB: 10 }, controllerUrl: d.agent.controllerUrl });
    const ct = fake.cts.get(105)!;
    expect(ct.config).toMatchObject({ hostname: "mc1", cores: 2, memory: 2048, net0: "name=eth0,bridge=vmbr0,ip=dhcp", tags: `zlh;zlh-uid-${mc1.uid}` });
    expect(String(ct.config.rootfs)).toMatch(/^local-lvm:vm-105-disk-0,size=10G$/);
    expect(String(ct.config.description)).toContain(`zerolaghub.dev/owner=GameServer/default/mc1/${mc1.uid}`);
    expect(ct.agent).toEqual({ token: d.agent.token, controllerUrl: d.agent.controllerUrl, resource: "gameservers/default/mc1", deliveries: 1 });
    expect(fake.calls("POST", /\/lxc\/9000\/clone$/)[0]!.params.get("full")).toBe("1");
    // The token never went to Proxmox (config, description, tags, task parameters) nor to our log.
    for (const r of fake.requests) expect(r.raw).not.toContain(d.agent.token);
    expect(JSON.stringify([...fake.tasks.values()])).not.toContain(d.agent.token);
    expect(log.text()).not.toContain(d.agent.token);
    expect(log.text()).not.toContain(fake.secret);
    expect(await provider.observe([mc1])).toEqual([w]);
  });

  it("observes many owners with one list call and ignores foreign containers", async () => {
    const { fake, provider } = await setup();
    fake.seed(200, { hostname: "mc1", description: "hand-made" });
    const a = await provider.create(desired(mc1, 105));
    const b = await provider.create(desired(alice, 106));
    const before = fake.calls("GET", /\/nodes\/pve1\/lxc$/).length;
    const found = await provider.observe([mc1, alice, { ...mc1, name: "ghost", uid: "eeeeeeee-1111-4222-8333-944445555666" }]);
    expect(found.map((w) => w.id)).toEqual([a.id, b.id]);
    expect(fake.calls("GET", /\/nodes\/pve1\/lxc$/).length - before).toBe(1);
    expect((await provider.list()).map((w) => w.vmid)).toEqual([105, 106]);
  });

  it("reports a failed task with its exit status and log, and leaves no container behind", async () => {
    const { fake, provider } = await setup();
    fake.failTask("vzclone", "storage 'local-lvm' does not have enough free space");
    const err = await rejection(provider.create(desired(mc1, 105)));
    expect(err.message).toContain("clone template 9000 to CT 105");
    expect(err.message).toContain("failed: storage 'local-lvm' does not have enough free space");
    expect(err.message).toContain("last log lines:");
    expect(fake.cts.has(105)).toBe(false);
  });

  it("retries a locked container and 596 with backoff on the injected clock", async () => {
    const { fake, clock, provider } = await setup();
    fake.lingeringLock = 2;
    fake.failNext(1, 596, "Connection timed out", /^GET .*\/lxc$/);
    const w = await provider.create(desired(mc1, 105));
    expect(w.running).toBe(true);
    expect(clock.sleeps).toContain(250);
    expect(clock.sleeps).toContain(500);
    // The refused tries started nothing: one clone task, one container.
    expect([...fake.tasks.values()].filter((t) => t.type === "vzclone")).toHaveLength(1);
    expect(fake.requests.filter((r) => r.method !== "GET").length).toBeGreaterThan(fake.tasks.size);
  });

  it("refuses a wrong token at once, naming the token id but never the secret", async () => {
    const { fake, provider, log } = await setup({ tokenSecret: () => "wrong-secret-0000" });
    const err = await rejection(provider.list());
    expect(err.message).toContain("HTTP 401");
    expect(err.message).toContain("zlh@pve!controller");
    expect(err.message).not.toContain("wrong-secret-0000");
    expect(fake.requests).toHaveLength(1);
    expect(log.text()).not.toContain("wrong-secret-0000");
  });

  it("reports a missing permission as such", async () => {
    const { fake, provider } = await setup();
    fake.failNext(1, 403, "Permission check failed (/vms/9000, VM.Clone)", /clone$/);
    const err = await rejection(provider.create(desired(mc1, 105)));
    expect(err.message).toContain("Permission check failed (/vms/9000, VM.Clone)");
    expect(fake.calls("POST", /\/clone$/)).toHaveLength(1);
  });

  it("pins the configured CA: another CA is refused, insecureSkipTLSVerify accepts", async () => {
    const { fake } = await setup();
    const other = createSelfSignedCertificate({ commonName: "other", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], notBefore: new Date(Date.now() - 3_600_000), notAfter: new Date(Date.now() + 86_400_000) });
    const base = { url: fake.url, node: "pve1", tokenId: fake.tokenId, tokenSecret: () => fake.secret, template: 9000, bridge: "vmbr0", clock: new AutoAdvanceClock(), retry: { attempts: 1 } };
    const wrong = new ProxmoxWorkloadProvider({ ...base, tls: { ca: other.certPem } });
    expect((await rejection(wrong.list())).message).toMatch(/cannot reach 127\.0\.0\.1:\d+: (?:SELF_SIGNED|DEPTH_ZERO|UNABLE|CERT)/);
    const system = new ProxmoxWorkloadProvider({ ...base, tls: {} });
    await expect(system.list()).rejects.toThrow(/cannot reach/);
    const insecure = new ProxmoxWorkloadProvider({ ...base, tls: { insecureSkipTLSVerify: true } });
    expect(await insecure.list()).toEqual([]);
  });

  it("adopts the container after a crash between clone and configuration, never cloning twice", async () => {
    const { fake, provider } = await setup();
    // The first try dies after the clone (the config PUT fails for good, like a killed controller).
    fake.failNext(1, 400, "Parameter verification failed.", /^PUT .*\/config$/);
    await rejection(provider.create(desired(mc1, 105)));
    expect(fake.cts.get(105)?.config.tags).toBeUndefined();
    // The restarted controller looks first (untagged, found by hostname + description) ...
    const seen = (await provider.observe([mc1]))[0]!;
    expect(seen).toMatchObject({ vmid: 105, running: false, controllerUrl: "" });
    // ... and create with the persisted vmid carries on where the first left off.
    const w = await provider.create(desired(mc1, 105));
    expect(w).toMatchObject({ vmid: 105, running: true, ip: "10.10.0.105" });
    expect(fake.calls("POST", /\/clone$/)).toHaveLength(1);
    expect([...fake.cts.keys()].sort()).toEqual([105, 9000]);
    expect(fake.cts.get(105)!.agent?.deliveries).toBe(1);
  });

  it("updates limits in place and re-delivers the agent credentials without a restart", async () => {
    const { fake, provider } = await setup();
    const w = await provider.create(desired(mc1, 105));
    const next = { ...desired(mc1, 105), resources: { cpu: 4, memoryMiB: 4096, diskGiB: 12 }, agent: { controllerUrl: "http://127.0.0.1:7999", token: "token-2" } };
    const u = await provider.update(w.id, next);
    expect(u).toMatchObject({ running: true, resources: { cpu: 4, memoryMiB: 4096, diskGiB: 12 }, controllerUrl: "http://127.0.0.1:7999" });
    expect(fake.cts.get(105)!.agent).toMatchObject({ token: "token-2", deliveries: 2 });
    expect(fake.cts.get(105)!.starts).toBe(1);
    await expect(provider.update(w.id, desired(alice, 105))).rejects.toMatchObject({ reason: "Conflict" });
    await expect(provider.update("107-gameserver-default-mc1", desired(mc1, 107))).rejects.toMatchObject({ reason: "NotFound" });
  });

  it("never touches a vmid held by a container without our mark", async () => {
    const { fake, provider } = await setup();
    fake.seed(105, { hostname: "db", description: "production database" });
    const before = JSON.stringify(fake.cts.get(105));
    const err = await rejection(provider.create(desired(mc1, 105)));
    expect(err).toMatchObject({ reason: "Conflict" });
    expect(err.message).toContain("vmid 105");
    await expect(provider.delete("105-gameserver-default-mc1")).rejects.toMatchObject({ reason: "Conflict" });
    expect(JSON.stringify(fake.cts.get(105))).toBe(before);
    expect(fake.calls("POST", /\/clone$/)).toHaveLength(0);
  });

  it("refuses a second container for the same owner", async () => {
    const { provider } = await setup();
    await provider.create(desired(mc1, 105));
    const err = await rejection(provider.create(desired(mc1, 106)));
    expect(err).toMatchObject({ reason: "Conflict" });
    expect(err.message).toContain("105-gameserver-default-mc1");
  });

  it("deletes with shutdown then purge, and a missing container is success", async () => {
    const { fake, provider } = await setup();
    const w = await provider.create(desired(mc1, 105));
    await provider.delete(w.id);
    expect(fake.cts.has(105)).toBe(false);
    const del = fake.calls("DELETE", /\/lxc\/105$/);
    expect(del).toHaveLength(1);
    expect(del[0]!.query.get("purge")).toBe("1");
    expect(fake.calls("POST", /\/status\/shutdown$/)).toHaveLength(1);
    await provider.delete(w.id);
    expect(fake.calls("DELETE", /\/lxc\/105$/)).toHaveLength(1);
  });

  it("falls back to a hard stop when the shutdown task fails", async () => {
    const { fake, provider } = await setup();
    const w = await provider.create(desired(mc1, 105));
    fake.failTask("vzshutdown", "command 'lxc-stop -n 105 --nokill --timeout 30' failed: exit code 1");
    await provider.delete(w.id);
    expect(fake.calls("POST", /\/status\/stop$/)).toHaveLength(1);
    expect(fake.cts.has(105)).toBe(false);
  });

  it("starts a container stopped behind its back, and refuses bad ids", async () => {
    const { fake, provider } = await setup();
    const w = await provider.create(desired(mc1, 105));
    fake.crash(105);
    expect((await provider.observe([mc1]))[0]?.running).toBe(false);
    expect((await provider.start(w.id)).running).toBe(true);
    expect(fake.cts.get(105)!.starts).toBe(2);
    await expect(provider.start("999-gameserver-default-nothing")).rejects.toMatchObject({ reason: "NotFound" });
    for (const id of ["../etc", "100-pod-default-x", "", "105-gameserver-default-mc1/../x"]) await expect(provider.delete(id)).rejects.toMatchObject({ reason: "Invalid" });
  });
});
