import { connect } from "node:net";

/**
 * One TCP connect attempt: true when the port accepted, false on refusal or after
 * `timeoutMs`. The connection is closed politely (FIN, reading what the server sends)
 * because destroying it with unread data sends a RST, and a server without an error
 * handler on its sockets dies of the ECONNRESET.
 */
export function tcpProbe(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
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
      socket.destroy();
    });
    socket.once("connect", () => {
      settle(true);
      socket.resume();
      socket.end();
    });
    socket.on("error", () => settle(false));
    socket.once("close", () => settle(false));
  });
}
