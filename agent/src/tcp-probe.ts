import { connect as netConnect } from "node:net";

/** How long a probe socket may wait for the server's FIN before it is cut off. */
export const LINGER_MS = 30_000;

/** The part of net.Socket the probe uses (a seam for tests). */
export interface ProbeSocket {
  setTimeout(ms: number, callback: () => void): unknown;
  once(event: "connect" | "close", listener: () => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  resume(): unknown;
  end(): unknown;
  destroy(): unknown;
}

export type ProbeConnect = (options: { host: string; port: number }) => ProbeSocket;

/**
 * One TCP connect attempt: true when the port accepted, false on refusal or after
 * `timeoutMs`. The connection is always closed politely (FIN, reading what the server
 * sends): destroying it with unread data, or before the server has written its greeting,
 * makes the kernel answer with a RST, and a server without an error handler on its sockets
 * dies of the ECONNRESET. On a loaded machine the reply or even the connect event can come
 * later than `timeoutMs`, so the timeout only decides the answer; the socket itself is
 * destroyed only when the server has not closed its side within LINGER_MS.
 */
export function tcpProbe(host: string, port: number, timeoutMs = 1000, connect: ProbeConnect = netConnect): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      resolve(ok);
    };
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      settle(false);
      socket.setTimeout(LINGER_MS, () => socket.destroy());
    });
    socket.once("connect", () => {
      settle(true);
      socket.setTimeout(LINGER_MS, () => socket.destroy());
      socket.resume();
      socket.end();
    });
    socket.on("error", () => settle(false));
    socket.once("close", () => settle(false));
  });
}
