// Addresses and interface names of LXC workloads, derived from the vmid alone so that a
// restarted controller (or a second look) always computes the same ones: IP = subnet base +
// vmid, like Proxmox setups that put the vmid in the address.
import { createHash } from "node:crypto";
import { isIPv4 } from "node:net";
import { ProviderError } from "../provider-error.js";

export interface Subnet {
  base: number;
  prefix: number;
}

export function parseSubnet(text: string): Subnet | undefined {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
  if (!m || !isIPv4(m[1]!)) return undefined;
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) return undefined;
  const base = ipToInt(m[1]!);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  if ((base & ~mask) >>> 0 !== 0) return undefined; // host bits set: not a subnet base
  return { base, prefix };
}

/**
 * The highest offset from the base a container may use: on a bridge the last address is the
 * broadcast; routed containers have /32 addresses, so there the subnet is only a pool.
 */
export function lastOffset(s: Subnet, routed: boolean): number {
  return 2 ** (32 - s.prefix) - (routed ? 1 : 2);
}

export function addressInSubnet(s: Subnet, offset: number, routed = true): string {
  if (!Number.isInteger(offset) || offset < 1 || offset > lastOffset(s, routed)) {
    throw new ProviderError("Invalid", `vmid ${offset} has no address in ${intToIp(s.base)}/${s.prefix}`);
  }
  return intToIp(s.base + offset);
}

export function ipToInt(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0) >>> 0;
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join(".");
}

/**
 * Host-side veth name: at most 15 characters (IFNAMSIZ), unique per vmid and per lxcpath, so
 * two zlh servers on one host with different lxcpaths never fight over an interface.
 */
export function hostInterfaceName(lxcpath: string, vmid: number): string {
  const tag = createHash("sha256").update(lxcpath).digest("hex").slice(0, 4);
  return `zl${tag}${vmid}`;
}
