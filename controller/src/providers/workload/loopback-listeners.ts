// Which loopback addresses someone is listening on, from the kernel's socket tables
// (/proc/net/tcp, tcp6, udp, udp6). The local provider reads them before it hands out an
// address, so a workload never lands on an address another zlh server (or anything else)
// already serves on.
import { readFileSync } from "node:fs";
import { endianness } from "node:os";

const TABLES = ["tcp", "tcp6", "udp", "udp6"] as const;
/** TCP state 0A is LISTEN; a bound UDP socket (any state) receives on its address too. */
const TCP_LISTEN = "0A";

/**
 * The kernel prints each 32-bit word of an address as hex in host byte order, so on a
 * little-endian machine 127.0.0.1 reads "0100007F".
 */
function wordToBytes(hex: string): number[] {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return endianness() === "LE" ? bytes.reverse() : bytes;
}

/** The IPv4 address in a /proc/net address column, or undefined for a plain IPv6 one. */
export function ipv4OfProcAddress(hexAddress: string): string | undefined {
  let word: string;
  if (hexAddress.length === 8) {
    word = hexAddress;
  } else if (hexAddress.length === 32) {
    // IPv4-mapped IPv6 (::ffff:a.b.c.d), which an IPv6 socket bound to an IPv4 address shows.
    const prefix = [0, 8, 16].map((i) => wordToBytes(hexAddress.slice(i, i + 8)));
    const mapped = prefix[0]!.every((b) => b === 0) && prefix[1]!.every((b) => b === 0) && prefix[2]!.join(".") === "0.0.255.255";
    if (!mapped) return undefined;
    word = hexAddress.slice(24, 32);
  } else {
    return undefined;
  }
  return wordToBytes(word).join(".");
}

/** Parses one /proc/net/{tcp,udp}[6] table into the IPv4 addresses that have a listener. */
export function listeningAddresses(table: string, tcp: boolean): string[] {
  const found: string[] = [];
  for (const line of table.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4) continue;
    if (tcp && cols[3] !== TCP_LISTEN) continue;
    const ip = ipv4OfProcAddress(cols[1]!.split(":")[0]!);
    if (ip) found.push(ip);
  }
  return found;
}

/** Every 127/8 address some socket on this host (this network namespace) listens on. */
export function loopbackListeners(): Set<string> {
  const found = new Set<string>();
  for (const name of TABLES) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${name}`, "utf8");
    } catch {
      continue; // no IPv6, or no /proc: nothing to learn from this table
    }
    for (const ip of listeningAddresses(text, name.startsWith("tcp"))) if (ip.startsWith("127.")) found.add(ip);
  }
  return found;
}
