// One loopback port that speaks both plain HTTP and HTTPS, chosen per connection by the
// first byte (0x16 starts a TLS handshake). client-node and our own tools use http://;
// kubectl needs https:// because client-go attaches a bearer token only over TLS.
import { createServer as createHttpServer, type RequestListener } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type Server, type Socket } from "node:net";

const TLS_HANDSHAKE = 0x16;
const IDLE_BEFORE_FIRST_BYTE_MS = 30_000;

export interface DualProtocolServer {
  /** The listening socket; call `listen` on it. */
  server: Server;
  /** Stops accepting and destroys every open connection. */
  close(): Promise<void>;
}

export function createDualProtocolServer(handler: RequestListener, tls: { key: string; cert: string }): DualProtocolServer {
  const http = createHttpServer(handler);
  const https = createHttpsServer({ key: tls.key, cert: tls.cert }, handler);
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // A connection that never says anything must not be held open forever.
    socket.setTimeout(IDLE_BEFORE_FIRST_BYTE_MS, () => socket.destroy());
    socket.once("data", (first: Buffer) => {
      socket.setTimeout(0);
      // Hand the socket over with its first bytes put back, then let it flow again.
      socket.pause();
      socket.unshift(first);
      (first[0] === TLS_HANDSHAKE ? https : http).emit("connection", socket);
      process.nextTick(() => socket.resume());
    });
    socket.on("error", () => socket.destroy());
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        http.closeAllConnections();
        https.closeAllConnections();
      }),
  };
}
