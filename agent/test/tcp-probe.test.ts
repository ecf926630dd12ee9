import { describe, expect, it } from "vitest";
import { createServer, type Socket } from "node:net";
import { LINGER_MS, tcpProbe } from "../src/tcp-probe.js";

describe("tcpProbe", () => {
  it("connects to a listening port and closes without resetting the server's socket", async () => {
    const errors: Error[] = [];
    const server = createServer((s: Socket) => {
      s.on("error", (e) => errors.push(e));
      s.end("hi");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    for (let i = 0; i < 20; i++) expect(await tcpProbe("127.0.0.1", port)).toBe(true);
    await new Promise<void>((r) => server.close(() => r()));
    expect(errors).toEqual([]);
    // Closed now: the same port refuses.
    expect(await tcpProbe("127.0.0.1", port)).toBe(false);
  });

  // A fake socket: which timeout is armed, and whether the probe ended or destroyed it.
  function fakeSocket() {
    const handlers = new Map<string, (() => void)[]>();
    const socket = {
      timeout: { ms: 0, callback: () => {} },
      ended: false,
      destroyed: false,
      setTimeout(ms: number, callback: () => void) {
        socket.timeout = { ms, callback };
      },
      once(event: string, listener: () => void) {
        handlers.set(event, [...(handlers.get(event) ?? []), listener]);
      },
      on(event: string, listener: (err: Error) => void) {
        socket.once(event, () => listener(new Error(event)));
      },
      resume() {},
      end() {
        socket.ended = true;
      },
      destroy() {
        socket.destroyed = true;
      },
      emit(event: string) {
        for (const l of handlers.get(event) ?? []) l();
      },
    };
    return socket;
  }

  it("once connected, waits LINGER_MS for the server's FIN instead of resetting at the connect timeout", async () => {
    const socket = fakeSocket();
    const answer = tcpProbe("127.0.0.1", 1, 50, () => socket);
    socket.emit("connect");
    expect(await answer).toBe(true);
    expect(socket.ended).toBe(true);
    expect(socket.timeout.ms).toBe(LINGER_MS);
    expect(socket.destroyed).toBe(false);
    socket.timeout.callback(); // a server that never closes is cut off in the end
    expect(socket.destroyed).toBe(true);
  });

  it("a connect timeout answers false but closes a late connection politely (the loop stalled past it)", async () => {
    const socket = fakeSocket();
    const answer = tcpProbe("127.0.0.1", 1, 50, () => socket);
    socket.timeout.callback();
    expect(await answer).toBe(false);
    expect(socket.destroyed).toBe(false);
    socket.emit("connect");
    expect(socket.ended).toBe(true);
    expect(socket.destroyed).toBe(false);
    expect(socket.timeout.ms).toBe(LINGER_MS);
  });
});
