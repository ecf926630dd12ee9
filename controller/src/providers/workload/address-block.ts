// Each local workload root gets a loopback block of its own, 127.<block>.0.0/16, and workload
// `vmid` gets 127.<block>.<vmid/256>.<vmid%256> in it. With one fixed block, two zlh servers
// on one host (two checkouts, or the tests beside a running server) would hand the same
// address to their workloads with the same vmid, and the second server would die on
// EADDRINUSE. So a root:
//   - prefers the block recorded in `<root>/.zlh-address-block.json`, else one from a hash
//     of its path, so restarts keep their addresses;
//   - claims the block while it has workloads, with an abstract unix socket named for the
//     block (atomic, per network namespace like the addresses, gone when the process dies),
//     so two live servers never pick one block at the same moment;
//   - skips a block in which someone else listens (/proc/net), so workloads of a server that
//     is down keep their block too;
//   - moves to another block when the address a new workload would get is already served.
// 127.0.0.0/16 (127.0.0.1 and friends) and 127.255.0.0/16 (its last address is the /8's
// broadcast) are never used.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import type { Logger } from "pino";
import { writeFileAtomic } from "../atomic-write.js";
import { Mutex } from "../mutex.js";
import { ioError, ProviderError } from "../provider-error.js";
import { loopbackListeners } from "./loopback-listeners.js";
import { workloadIp } from "./workload-rules.js";

export const ADDRESS_BLOCK_FILE = ".zlh-address-block.json";
const FIRST = 1;
const LAST = 254;

/** Claims held by this process, by root: two provider instances on one root share one. */
const claims = new Map<string, { block: number; server: Server }>();
const claimLock = new Mutex();

function claimName(block: number): string {
  return `\0zlh-loopback-block-127.${block}`;
}

/** Binds the block's abstract socket; false when another process (or root) holds it. */
function bindClaim(block: number): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (err: NodeJS.ErrnoException) => (err.code === "EADDRINUSE" ? resolve(undefined) : reject(err)));
    server.listen({ path: claimName(block) }, () => {
      server.unref(); // a claim never keeps a process alive
      resolve(server);
    });
  });
}

/** The blocks to try for `root`, best first: its recorded block, then from a hash of its path. */
export function candidateBlocks(root: string, recorded: number | undefined): number[] {
  const span = LAST - FIRST + 1;
  const start = createHash("sha256").update(root).digest().readUInt32BE(0) % span;
  const order = Array.from({ length: span }, (_, i) => FIRST + ((start + i) % span));
  return recorded === undefined ? order : [recorded, ...order.filter((b) => b !== recorded)];
}

export function blockOf(ip: string): number | undefined {
  const m = /^127\.(\d+)\.\d+\.\d+$/.exec(ip);
  return m ? Number(m[1]) : undefined;
}

export class AddressBlock {
  private readonly file: string;
  /** Blocks this root left because its addresses were taken there; never tried again. */
  private readonly abandoned = new Set<number>();

  constructor(
    private readonly root: string,
    private readonly logger?: Logger,
  ) {
    this.file = join(root, ADDRESS_BLOCK_FILE);
  }

  /** The recorded block, if any (what the root used last). */
  recorded(): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw ioError("cannot read", this.file, err);
    }
    const block = (JSON.parse(text) as { block?: unknown }).block;
    return typeof block === "number" && Number.isInteger(block) && block >= FIRST && block <= LAST ? block : undefined;
  }

  /**
   * The address for a new workload with `vmid`. `ours` are the addresses this root's
   * workloads already have: listeners on them are ours, anything else in a block is not.
   */
  async addressFor(vmid: number, ours: ReadonlySet<string>): Promise<string> {
    return claimLock.run(async () => {
      for (;;) {
        const block = await this.claim(ours);
        const ip = workloadIp(vmid, block);
        if (!loopbackListeners().has(ip)) return ip;
        this.logger?.warn({ ip, block: `127.${block}.0.0/16` }, "workload address is served by someone else; moving to another address block");
        this.abandoned.add(block);
        this.drop();
      }
    });
  }

  /** Gives the claim up (the root has no workloads left); the recorded block stays preferred. */
  release(): void {
    this.drop();
  }

  private drop(): void {
    const held = claims.get(this.root);
    if (!held) return;
    held.server.close();
    claims.delete(this.root);
  }

  private async claim(ours: ReadonlySet<string>): Promise<number> {
    const held = claims.get(this.root);
    if (held && !this.abandoned.has(held.block)) return held.block;
    let recorded: number | undefined;
    try {
      mkdirSync(this.root, { recursive: true, mode: 0o700 });
      recorded = this.recorded();
    } catch (err) {
      throw ioError("cannot prepare workload root", this.root, err);
    }
    const listeners = loopbackListeners();
    const foreign = new Set<number>();
    for (const ip of listeners) if (!ours.has(ip)) foreign.add(blockOf(ip)!);
    for (const block of candidateBlocks(this.root, recorded)) {
      if (this.abandoned.has(block) || foreign.has(block)) continue;
      const server = await bindClaim(block);
      if (!server) continue;
      claims.set(this.root, { block, server });
      if (block !== recorded) {
        writeFileAtomic(this.file, JSON.stringify({ block, prefix: `127.${block}.0.0/16` }) + "\n", { mode: 0o644 });
        if (recorded !== undefined) this.logger?.warn({ from: `127.${recorded}.0.0/16`, to: `127.${block}.0.0/16` }, "address block moved");
      }
      return block;
    }
    throw new ProviderError("Unavailable", `no free loopback address block for ${this.root}: every 127.N.0.0/16 (N ${FIRST}-${LAST}) is claimed or served by someone else`);
  }
}
