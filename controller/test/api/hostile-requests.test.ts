// Requests built to break the server: deep nesting, prototype keys, oversized and
// unauthenticated bodies, control characters, objects too big for their status. Each gets
// a 4xx Status, the server keeps serving, and nothing in the store changes.
import { connect, type Socket } from "node:net";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_OBJECT_BYTES } from "../../src/api/object-size.js";
import { gameServer, gsPath, startTestServer, type RawResponse, type TestServer } from "./api-test-server.js";

const DEEP = 10_000;
const deepArray = (n: number): string => "[".repeat(n) + "]".repeat(n);
const deepObject = (n: number): string => '{"a":'.repeat(n) + "1" + "}".repeat(n);

function expectStatus(r: RawResponse, codes: number[], reason?: string): void {
  expect(codes).toContain(r.status);
  expect(r.headers["content-type"]).toBe("application/json");
  expect(r.json).toMatchObject({ kind: "Status", status: "Failure", code: r.status });
  if (reason) expect(r.json.reason).toBe(reason);
}

/** Sends a request head and then streams `total` bytes of body; resolves with the status line (or the error) and how much was written. */
function streamBody(url: string, head: string, total: number, untilClosed = false): Promise<{ status?: number; written: number; error?: string; body: string }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: u.hostname, port: Number(u.port) });
    let written = 0;
    let response = "";
    let done = false;
    const finish = (error?: string): void => {
      if (done) return;
      done = true;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(response);
      socket.destroy();
      resolve({ status: m ? Number(m[1]) : undefined, written, error, body: response.slice(response.indexOf("\r\n\r\n") + 4) });
    };
    const chunk = Buffer.alloc(64 * 1024, "x");
    const pump = (): void => {
      while (written < total) {
        const n = Math.min(chunk.length, total - written);
        written += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void socket.once("drain", pump);
      }
    };
    socket.on("connect", () => {
      socket.write(head);
      pump();
    });
    socket.on("data", (d: Buffer) => {
      response += d.toString("latin1");
      // The whole Status arrived (it is small): stop there.
      const end = response.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(response);
      if (!untilClosed && end >= 0 && length && response.length >= end + 4 + Number(length[1])) finish();
    });
    socket.on("end", () => finish());
    socket.on("close", () => finish());
    socket.on("error", (e) => finish((e as NodeJS.ErrnoException).code ?? e.message));
  });
}

describe("hostile requests", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    expect((await t.raw("POST", gsPath(), { body: gameServer("keep") })).status).toBe(201);
  });
  afterAll(async () => {
    await t.dispose();
  });

  const snapshot = async (): Promise<string> => {
    const list = await t.raw("GET", "/apis/zerolaghub.dev/v1alpha1/gameservers");
    return JSON.stringify(list.json.items);
  };

  it("refuses JSON nested 10,000 deep on every write path with a 4xx, and keeps serving", async () => {
    const before = await snapshot();
    const deep = `{"apiVersion":"zerolaghub.dev/v1alpha1","kind":"GameServer","metadata":{"name":"deep"},"spec":{"game":"generic","command":["x"],"ports":[{"name":"g","port":1}],"env":${deepObject(DEEP)}}}`;
    const keepDeep = deep.replace('"name":"deep"', '"name":"keep"');
    const cases: [string, string, string, string][] = [
      ["POST", gsPath(), deep, "application/json"],
      ["POST", gsPath(), deepArray(DEEP), "application/json"],
      ["PUT", gsPath("default", "keep"), keepDeep, "application/json"],
      ["PUT", gsPath("default", "keep", "status"), keepDeep, "application/json"],
      ["PATCH", gsPath("default", "keep"), `{"spec":{"env":${deepObject(DEEP)}}}`, "application/merge-patch+json"],
      ["PATCH", gsPath("default", "keep", "status"), `{"status":${deepObject(DEEP)}}`, "application/merge-patch+json"],
      ["PATCH", gsPath("default", "keep"), `[{"op":"add","path":"/spec/env","value":${deepObject(DEEP)}}]`, "application/json-patch+json"],
      ["PATCH", gsPath("default", "keep"), `{"metadata":{"annotations":${deepArray(DEEP)}}}`, "application/strategic-merge-patch+json"],
      ["POST", "/api/v1/namespaces/default/events", deepObject(DEEP), "application/json"],
    ];
    for (const [method, path, body, type] of cases) {
      const r = await t.raw(method, path, { body, headers: { "Content-Type": type } });
      expectStatus(r, [400, 422]);
    }
    expect(await snapshot()).toBe(before);
  });

  it("refuses a JSON patch that grows the object by copying it into itself", async () => {
    const before = await snapshot();
    // Each copy doubles the object: 40 of them would need 2^40 times its size.
    const ops = [{ op: "add", path: "/spec/env", value: { A: "x".repeat(1000) } }];
    for (let i = 0; i < 40; i++) ops.push({ op: "copy", from: "/spec", path: `/spec/c${i}` } as never);
    const r = await t.raw("PATCH", gsPath("default", "keep"), { body: JSON.stringify(ops), headers: { "Content-Type": "application/json-patch+json" } });
    expectStatus(r, [413, 422]);
    expect(await snapshot()).toBe(before);
  });

  it("refuses JSON patch paths through __proto__, constructor or prototype with 422", async () => {
    const before = await snapshot();
    for (const path of ["/__proto__/polluted", "/constructor/prototype/polluted", "/spec/__proto__", "/metadata/labels/prototype"]) {
      for (const op of [{ op: "add", path, value: "x" }, { op: "copy", from: "/spec", path }, { op: "move", from: path, path: "/spec/x" }]) {
        const r = await t.raw("PATCH", gsPath("default", "keep"), { body: JSON.stringify([op]), headers: { "Content-Type": "application/json-patch+json" } });
        expectStatus(r, [422], "Invalid");
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await snapshot()).toBe(before);
  });

  it("treats a merge patch key __proto__ as data, never as the prototype", async () => {
    const before = await snapshot();
    const r = await t.raw("PATCH", gsPath("default", "keep"), { body: '{"spec":{"__proto__":{"game":"minecraft"}}}', headers: { "Content-Type": "application/merge-patch+json" } });
    expectStatus(r, [422], "Invalid");
    expect(r.json.details.causes).toContainEqual(expect.objectContaining({ field: ".spec.__proto__", message: "unknown field" }));
    expect(await snapshot()).toBe(before);
  });

  it("answers a 20 MiB body with 413 and a Status, with or without Content-Length, and keeps serving", async () => {
    const before = await snapshot();
    const path = gsPath();
    const auth = `Authorization: Bearer ${t.api.token}\r\n`;
    const size = 20 * 1024 * 1024;
    const declared = await streamBody(t.api.url, `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`, size);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ kind: "Status", reason: "RequestEntityTooLarge", code: 413 });
    // Chunked: the server only learns the size while reading. One chunk header, then raw bytes.
    const chunked = await streamBody(t.api.url, `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${size.toString(16)}\r\n`, size);
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ kind: "Status", reason: "RequestEntityTooLarge" });
    expect((await t.raw("GET", "/healthz")).status).toBe(200);
    expect(await snapshot()).toBe(before);
  });

  it("answers an unauthenticated upload with 401 and closes the connection without reading the body", async () => {
    const size = 256 * 1024 * 1024;
    const r = await streamBody(t.api.url, `POST ${gsPath()} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`, size, true);
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
    // Socket buffers hold a few MiB at most; reading the body to its end would take all 256.
    expect(r.written).toBeLessThan(size / 4);
  });

  it("answers 401 with Connection: close even for a small unauthenticated body", async () => {
    const url = new URL(t.api.url);
    const headers = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method: "POST", path: gsPath(), headers: { "Content-Type": "application/json" } }, (res) => {
        res.resume();
        resolve({ ...res.headers, status: String(res.statusCode) });
      });
      req.on("error", reject);
      req.end(JSON.stringify(gameServer("anon")));
    });
    expect(headers.status).toBe("401");
    expect(headers.connection).toBe("close");
  });

  it("refuses NUL bytes and terminal control characters in spec.command and spec.env with 422", async () => {
    const before = await snapshot();
    const bad: [string, (s: Record<string, unknown>) => void][] = [
      [".spec.command[1]", (s) => (s.command = ["sh", "a\u0000b"])],
      [".spec.command[0]", (s) => (s.command = ["\u001b]0;owned\u0007sh"])],
      [".spec.env.A", (s) => (s.env = { A: "x\u0000y" })],
      [".spec.env.B", (s) => (s.env = { B: "clear\u001b[2J" })],
      [".spec.env.C", (s) => (s.env = { C: "cr\rlf" })],
      [".spec.shutdown.command", (s) => (s.shutdown = { command: "stop\nrm -rf" })],
    ];
    for (const [field, mutate] of bad) {
      const body = gameServer("ctl");
      mutate(body.spec as Record<string, unknown>);
      const r = await t.raw("POST", gsPath(), { body });
      expectStatus(r, [422], "Invalid");
      expect(r.json.details.causes.map((c: { field: string }) => c.field)).toContain(field);
    }
    expect(await snapshot()).toBe(before);
    // Tabs and newlines are text: a shell script may hold them.
    const ok = gameServer("ctl");
    (ok.spec as Record<string, unknown>).command = ["sh", "-c", "echo a\n\techo b"];
    (ok.spec as Record<string, unknown>).env = { MOTD: "line 1\nline 2\tend" };
    expect((await t.raw("POST", gsPath(), { body: ok })).status).toBe(201);
    expect((await t.raw("DELETE", gsPath("default", "ctl"))).status).toBe(200);
  });

  it("refuses an object too big to leave room for its status, naming the limit", async () => {
    const before = await snapshot();
    const big = gameServer("big");
    (big.metadata as Record<string, unknown>).annotations = { filler: "x".repeat(900 * 1024) };
    const r = await t.raw("POST", gsPath(), { body: big });
    expectStatus(r, [422], "Invalid");
    expect(r.json.message).toMatch(/at most \d+ bytes without status, so that a full status always fits/);
    expect(await snapshot()).toBe(before);
  });

  it("lets an object just under the size limit take a full status", async () => {
    const probe = gameServer("edge");
    const meta = { ...(probe.metadata as object), namespace: "default", uid: "00000000-0000-0000-0000-000000000000", creationTimestamp: "2026-01-01T00:00:00Z", generation: 1, resourceVersion: "1000000" };
    const base = Buffer.byteLength(JSON.stringify({ ...probe, metadata: { ...meta, annotations: { filler: "" } } }));
    (probe.metadata as Record<string, unknown>).annotations = { filler: "x".repeat(MAX_OBJECT_BYTES - base - 16) };
    const created = await t.raw("POST", gsPath(), { body: probe });
    expect(created.status).toBe(201);
    const longMessage = "m".repeat(4096);
    const status = {
      phase: "Error",
      observedGeneration: 1,
      vmid: 100,
      conditions: ["WorkloadReady", "DNSReady", "RouteReady", "AgentReady", "Ready"].map((type) => ({ type, status: "False", reason: "Failed", message: longMessage, lastTransitionTime: "2026-01-01T00:00:00Z" })),
      endpoints: Array.from({ length: 16 }, (_, i) => ({ name: `p${i}`, host: "h".repeat(253), port: 1000 + i, protocol: "tcp", url: `tcp://${"h".repeat(253)}:${1000 + i}` })),
      provisioningError: "e".repeat(16 * 1024),
      agent: { state: "error", message: "a".repeat(16 * 1024), restarts: 3 },
    };
    const put = await t.raw("PUT", gsPath("default", "edge", "status"), { body: { ...created.json, status } });
    expect(put.status).toBe(200);
    expect(put.json.status.provisioningError).toHaveLength(16 * 1024);
    expect((await t.raw("DELETE", gsPath("default", "edge"))).status).toBe(200);
  });

  it("refuses a status bigger than its own cap with 422 instead of storing it", async () => {
    const current = await t.raw("GET", gsPath("default", "keep"));
    const r = await t.raw("PUT", gsPath("default", "keep", "status"), { body: { ...current.json, status: { phase: "Error", provisioningError: "e".repeat(600 * 1024) } } });
    expectStatus(r, [422], "Invalid");
    expect(r.json.message).toMatch(/status is \d+ bytes; at most \d+/);
  });
});

describe("a full disk", () => {
  it("answers 507 with the reason 'database or disk is full', stores nothing, and serves reads", async () => {
    const t = await startTestServer({ storeMaxPageCount: 60 });
    try {
      let full: RawResponse | undefined;
      let created = 0;
      for (let i = 0; i < 2000 && !full; i++) {
        const body = gameServer(`fill${i}`);
        (body.metadata as Record<string, unknown>).annotations = { filler: "x".repeat(4000) };
        const r = await t.raw("POST", gsPath(), { body });
        if (r.status === 201) created++;
        else full = r;
      }
      expect(full?.status).toBe(507);
      expect(full?.json).toMatchObject({ kind: "Status", reason: "InsufficientStorage", message: "database or disk is full", code: 507 });
      const list = await t.raw("GET", gsPath());
      expect(list.status).toBe(200);
      expect(list.json.items).toHaveLength(created);
    } finally {
      await t.dispose();
    }
  });
});
