import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentReport, GameServer } from "../../../schemas/generated/types.js";
import { startAgentEndpoint, type AgentResource, type RunningAgentEndpoint } from "../../src/agent-endpoint/agent-endpoint.js";
import { AgentReportStore } from "../../src/agent-endpoint/agent-report-store.js";
import { loadOrCreateAgentSecret, mintAgentToken, verifyAgentToken } from "../../src/agent-endpoint/agent-token.js";

function gameServer(name: string, uid: string, generation = 1): GameServer {
  return {
    apiVersion: "zerolaghub.dev/v1alpha1",
    kind: "GameServer",
    metadata: { name, namespace: "default", uid, generation },
    spec: { game: "generic", command: ["srv"], ports: [{ name: "game", port: 25565 }] },
    status: { ports: [{ name: "game", port: 25565, protocol: "tcp", publicPort: 30001 }] },
  };
}

function report(over: Partial<AgentReport> = {}): AgentReport {
  return { state: "running", restarts: 0, provisioningComplete: true, version: "0.1.0", time: new Date(0).toISOString(), ...over };
}

describe("agent endpoint", () => {
  const dir = mkdtempSync(join(tmpdir(), "zlh-agent-endpoint-"));
  const secret = loadOrCreateAgentSecret(join(dir, "agent.secret"));
  const resources = new Map<string, AgentResource>([
    ["gameservers/default/a", gameServer("a", "uid-a", 4)],
    ["gameservers/default/b", gameServer("b", "uid-b")],
  ]);
  const changes: string[] = [];
  const reports = new AgentReportStore({ clock: { now: () => 1000 }, onChange: (k) => changes.push(k) });
  let ep: RunningAgentEndpoint;
  const tokenA = mintAgentToken(secret, { plural: "gameservers", namespace: "default", name: "a", uid: "uid-a" });

  beforeAll(async () => {
    ep = await startAgentEndpoint({
      listen: "127.0.0.1:0",
      secret,
      lookup: (plural, ns, name) => resources.get(`${plural}/${ns}/${name}`),
      reports,
      clock: { now: () => 1000 },
      heartbeatSeconds: 7,
    });
  });
  afterAll(async () => {
    await ep.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, token?: string) =>
    fetch(ep.url + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const post = (path: string, body: unknown, token?: string) =>
    fetch(ep.url + path, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  it("creates the secret file with mode 0600 and reuses it on the next start", () => {
    const path = join(dir, "agent.secret");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadOrCreateAgentSecret(path).equals(secret)).toBe(true);
    expect(secret.length).toBe(32);
  });

  it("verifies a token only for the resource it was minted for", () => {
    const ref = { plural: "gameservers", namespace: "default", name: "a", uid: "uid-a" };
    expect(tokenA).toMatch(/^zlha\.[A-Za-z0-9_-]{43}$/);
    expect(verifyAgentToken(secret, ref, tokenA)).toBe(true);
    expect(verifyAgentToken(secret, { ...ref, uid: "uid-x" }, tokenA)).toBe(false);
    expect(verifyAgentToken(Buffer.alloc(32, 1), ref, tokenA)).toBe(false);
    expect(verifyAgentToken(secret, ref, tokenA.slice(0, -1))).toBe(false);
  });

  it("serves the spec, allocated ports and heartbeat interval to the resource's own token", async () => {
    const res = await get("/agent/v1/gameservers/default/a/spec", tokenA);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({
      apiVersion: "zerolaghub.dev/v1alpha1",
      kind: "GameServer",
      metadata: { name: "a", namespace: "default", uid: "uid-a", generation: 4 },
      spec: resources.get("gameservers/default/a")!.spec,
      ports: [{ name: "game", port: 25565, protocol: "tcp", publicPort: 30001 }],
      heartbeatSeconds: 7,
    });
  });

  it("answers 401 without a token and with a malformed one", async () => {
    const none = await get("/agent/v1/gameservers/default/a/spec");
    expect(none.status).toBe(401);
    expect((await none.json()).reason).toBe("Unauthorized");
    expect((await get("/agent/v1/gameservers/default/a/spec", "not-a-token")).status).toBe(401);
    expect((await post("/agent/v1/gameservers/default/a/report", report())).status).toBe(401);
    // The token is checked before the body is read: an oversized anonymous body is still 401.
    expect((await post("/agent/v1/gameservers/default/a/report", report({ message: "x".repeat(70 * 1024) }))).status).toBe(401);
  });

  it("answers 403 when a token for A reads or reports for B", async () => {
    const read = await get("/agent/v1/gameservers/default/b/spec", tokenA);
    expect(read.status).toBe(403);
    expect((await read.json()).reason).toBe("Forbidden");
    const write = await post("/agent/v1/gameservers/default/b/report", report(), tokenA);
    expect(write.status).toBe(403);
    expect(reports.get("gameservers/default/b")).toBeUndefined();
  });

  it("answers 403 to a token minted for an earlier resource with the same name but another uid", async () => {
    const stale = mintAgentToken(secret, { plural: "gameservers", namespace: "default", name: "a", uid: "uid-old" });
    expect((await get("/agent/v1/gameservers/default/a/spec", stale)).status).toBe(403);
  });

  it("answers 404 for an unknown resource or plural", async () => {
    expect((await get("/agent/v1/gameservers/default/nope/spec", tokenA)).status).toBe(404);
    expect((await get("/agent/v1/pods/default/a/spec", tokenA)).status).toBe(404);
  });

  it("rejects an invalid report with 400 naming the field", async () => {
    const res = await post("/agent/v1/gameservers/default/a/report", { ...report(), state: "exploded", restarts: -1 }, tokenA);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.reason).toBe("Invalid");
    expect(body.causes.map((c: { field: string }) => c.field).sort()).toEqual([".restarts", ".state"]);
    expect(body.message).toContain(".state");
  });

  it("rejects a body that is not JSON with 400 and one over 64 KiB with 413", async () => {
    const bad = await post("/agent/v1/gameservers/default/a/report", "{nope", tokenA);
    expect(bad.status).toBe(400);
    expect((await bad.json()).reason).toBe("Invalid");
    const big = await post("/agent/v1/gameservers/default/a/report", report({ message: "x".repeat(70 * 1024) }), tokenA);
    expect(big.status).toBe(413);
  });

  it("records a valid report and answers with the resource's current generation", async () => {
    const res = await post("/agent/v1/gameservers/default/a/report", report({ generation: 3, pid: 42 }), tokenA);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ generation: 4 });
    expect(reports.get("gameservers/default/a")).toEqual({ report: report({ generation: 3, pid: 42 }), receivedAt: 1000 });
    expect(changes).toContain("gameservers/default/a");
  });

  it("answers /healthz", async () => {
    expect((await fetch(ep.url + "/healthz")).status).toBe(200);
  });
});
