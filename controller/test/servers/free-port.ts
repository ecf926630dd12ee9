// A loopback address and port nobody else is using right now, for servers that need an
// explicit port in their config (knotd, sshd). A random 127.x address makes a clash with
// other test runs on the same host unlikely; binding TCP and UDP first makes it checked.
import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

export function randomLoopback(): string {
  return `127.${randomInt(1, 250)}.${randomInt(0, 250)}.${randomInt(2, 250)}`;
}

function tcpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    s.once("error", () => resolve(false));
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

/** A port free for both TCP and UDP on `host`. */
export async function freePort(host: string): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await tcpPort(host);
    if (await udpFree(host, port)) return port;
  }
  throw new Error(`no free port on ${host}`);
}
