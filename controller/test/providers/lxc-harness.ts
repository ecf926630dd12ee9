// Real LXC for provider tests: checks the host can run containers (failing loudly, never
// skipping, when it cannot), builds the cached base image once per machine, and makes
// providers on a private lxcpath and a subnet of their own.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LxcCli } from "../../src/providers/workload/lxc-cli.js";
import { ensureRootfs } from "../../src/providers/workload/lxc-rootfs.js";
import { LxcWorkloadProvider, type LxcWorkloadOptions } from "../../src/providers/workload/lxc.js";
import { intToIp, parseSubnet, type Subnet } from "../../src/providers/workload/lxc-network.js";

export const TEST_ROOTFS = { cacheDir: "/var/cache/zlh-test/lxc", suite: "bookworm", mirror: "http://deb.debian.org/debian" };
export const STANDIN = fileURLToPath(new URL("./fixtures/agent-standin.mjs", import.meta.url));

/** Throws a clear reason when this host cannot run the LXC tests (CI runs them as root). */
export function assertLxcUsable(): void {
  if (process.getuid?.() !== 0) throw new Error("the LXC provider tests need root (privileged containers, veth pairs); run the suite as root");
  for (const tool of ["lxc-create", "lxc-start", "lxc-ls", "lxc-attach", "debootstrap"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "pipe" });
    } catch {
      throw new Error(`${tool} is missing: apt-get install lxc debootstrap (see .ci/run)`);
    }
  }
}

/** The base image, built on first use (a few minutes; needs deb.debian.org). */
export async function testRootfs(): Promise<string> {
  return ensureRootfs(TEST_ROOTFS);
}

/**
 * A /16 no other test run uses at the same time: the second octet comes from the pid, so two
 * parallel files (or two checkouts) get different routes on the host.
 */
export function testSubnet(): Subnet {
  return parseSubnet(`10.${160 + (process.pid % 64)}.0.0/16`)!;
}

export interface LxcTestBed {
  lxcpath: string;
  subnet: Subnet;
  provider: LxcWorkloadProvider;
  cli: LxcCli;
  ipOf(vmid: number): string;
  /** Deletes every container left under the lxcpath, then the lxcpath itself. */
  cleanup(): Promise<void>;
}

export function lxcTestBed(extra: Partial<LxcWorkloadOptions> = {}): LxcTestBed {
  const lxcpath = mkdtempSync(join(tmpdir(), "zlh-lxc-"));
  const subnet = testSubnet();
  const options: LxcWorkloadOptions = {
    lxcpath,
    rootfs: TEST_ROOTFS,
    storage: "overlay",
    network: { mode: "routed", subnet, gateway: intToIp(subnet.base + 1) },
    agentBundle: STANDIN,
    nodeBinary: process.execPath,
    node: "test-node",
    // The stand-in ignores SIGTERM until Node has loaded it (PID 1 has no default handlers).
    stopTimeoutSeconds: 2,
    ...extra,
  };
  const provider = new LxcWorkloadProvider(options);
  const cli = new LxcCli({ lxcpath });
  return {
    lxcpath,
    subnet,
    provider,
    cli,
    ipOf: (vmid) => intToIp(subnet.base + vmid),
    async cleanup() {
      if (existsSync(lxcpath)) {
        for (const s of await cli.list().catch(() => [])) {
          await cli.stop(s.name, 2).catch(() => undefined);
          await cli.destroy(s.name).catch(() => undefined);
        }
      }
      rmSync(lxcpath, { recursive: true, force: true });
    },
  };
}

/** Lines of a file in a container's writable layer ('' when it does not exist yet). */
export function readInContainer(bed: LxcTestBed, id: string, file: string): string {
  try {
    return readFileSync(join(bed.provider.writableRoot(id), file), "utf8");
  } catch {
    return "";
  }
}
