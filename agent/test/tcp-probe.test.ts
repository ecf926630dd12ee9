import { describe, expect, it } from "vitest";
import { createServer, type Socket } from "node:net";
import { tcpProbe } from "../src/tcp-probe.js";

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
});
