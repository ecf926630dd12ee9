// The API server holds the admin token's power over every resource, so it listens on
// loopback only; a non-loopback address is a configuration error, not a silent default.
import { isIPv4, isIPv6 } from "node:net";

export class ListenAddressError extends Error {
  override readonly name = "ListenAddressError";
  constructor(
    readonly reason: "InvalidListenAddress" | "NonLoopbackListen",
    message: string,
  ) {
    super(message);
  }
}

export interface ListenAddress {
  host: string;
  port: number;
  /** Host as written in a URL (`[::1]` for IPv6). */
  urlHost: string;
}

function isLoopback(host: string): boolean {
  if (isIPv4(host)) return host.startsWith("127.");
  if (isIPv6(host)) return host === "::1" || host === "0:0:0:0:0:0:0:1";
  return false;
}

/** Parses `127.0.0.1:7443`, `[::1]:0` or `localhost:7443`; refuses anything off loopback. */
export function parseListenAddress(listen: string): ListenAddress {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(listen) ?? /^([^:[\]]+):(\d+)$/.exec(listen);
  if (!m) throw new ListenAddressError("InvalidListenAddress", `listen address ${JSON.stringify(listen)} must be host:port, e.g. 127.0.0.1:7443`);
  const port = Number(m[2]);
  if (port > 65535) throw new ListenAddressError("InvalidListenAddress", `listen address ${JSON.stringify(listen)}: port must be 0-65535`);
  const host = m[1] === "localhost" ? "127.0.0.1" : m[1]!;
  if (!isLoopback(host)) {
    throw new ListenAddressError("NonLoopbackListen", `listen address ${JSON.stringify(listen)} is not a loopback address: the API server only listens on 127.0.0.0/8 or ::1`);
  }
  return { host, port, urlHost: isIPv6(host) ? `[${host}]` : host };
}
