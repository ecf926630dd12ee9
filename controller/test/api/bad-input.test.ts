// Malformed and hostile requests: each gets a Status with a stable reason, and nothing is stored.
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseListenAddress } from "../../src/api/listen-address.js";
import { startApiServer } from "../../src/api/server.js";
import { gameServer, gsPath, makeDataDir, removeDir, silentLogger, startTestServer, type RawResponse, type TestServer } from "./api-test-server.js";

describe("bad input", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.dispose();
  });

  const stored = async (): Promise<string[]> => (await t.raw("GET", "/apis/zerolaghub.dev/v1alpha1/gameservers")).json.items.map((o: { metadata: { name: string } }) => o.metadata.name);
  const expectStatus = (r: RawResponse, code: number, reason: string): void => {
    expect(r.status).toBe(code);
    expect(r.headers["content-type"]).toBe("application/json");
    expect(r.json).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason });
  };

  it("refuses a name that is not a DNS-1123 label with 422 naming .metadata.name", async () => {
    for (const name of ["Bad_Name", "-x", "a".repeat(64), "a.b"]) {
      const r = await t.raw("POST", gsPath(), { body: gameServer(name) });
      expectStatus(r, 422, "Invalid");
      expect(r.json.details.causes[0].field).toBe(".metadata.name");
    }
    expect(await stored()).toEqual([]);
  });

  it("refuses path traversal in names and namespaces before touching the store", async () => {
    for (const path of [
      `${gsPath()}/..%2Fx`,
      `${gsPath()}/../x`,
      `${gsPath()}/%2E%2E`,
      "/apis/zerolaghub.dev/v1alpha1/namespaces/..%2F..%2Fetc/gameservers",
      "/apis/zerolaghub.dev/v1alpha1/namespaces/Default/gameservers",
      "/api/v1/namespaces/default/events/..",
    ]) {
      const r = await t.raw("GET", path);
      expectStatus(r, 400, "BadRequest");
    }
    const put = await t.raw("PUT", `${gsPath()}/..%2Fx`, { body: gameServer("x") });
    expectStatus(put, 400, "BadRequest");
    const post = await t.raw("POST", "/apis/zerolaghub.dev/v1alpha1/namespaces/..%2Fx/gameservers", { body: gameServer("x") });
    expectStatus(post, 400, "BadRequest");
    expect(await stored()).toEqual([]);
  });

  it("refuses unknown fields with 422 naming the field", async () => {
    const body = gameServer("unk");
    (body.spec as Record<string, unknown>).colour = "red";
    const r = await t.raw("POST", gsPath(), { body });
    expectStatus(r, 422, "Invalid");
    expect(r.json.details.causes).toContainEqual({ field: ".spec.colour", message: "unknown field", reason: "FieldValueInvalid" });
    expect(r.json.message).toContain('GameServer "unk" is invalid: .spec.colour: unknown field');
    expect(await stored()).toEqual([]);
  });

  it("refuses a body whose apiVersion or kind does not match the URL with 400", async () => {
    expectStatus(await t.raw("POST", gsPath(), { body: { ...gameServer("k"), kind: "DevEnvironment" } }), 400, "BadRequest");
    expectStatus(await t.raw("POST", gsPath(), { body: { ...gameServer("k"), apiVersion: "zerolaghub.dev/v1" } }), 400, "BadRequest");
    expectStatus(await t.raw("POST", gsPath(), { body: gameServer("k", { namespace: "other" }) }), 400, "BadRequest");
    expect(await stored()).toEqual([]);
  });

  it("refuses a 2 MB body with 413 and malformed JSON with 400", async () => {
    const big = gameServer("big");
    (big.metadata as Record<string, unknown>).annotations = { filler: "x".repeat(2 * 1024 * 1024) };
    expectStatus(await t.raw("POST", gsPath(), { body: big }), 413, "RequestEntityTooLarge");
    expectStatus(await t.raw("POST", gsPath(), { body: '{"apiVersion": ' }), 400, "BadRequest");
    expectStatus(await t.raw("POST", gsPath(), { body: "[1,2]" }), 400, "BadRequest");
    expect(await stored()).toEqual([]);
  });

  it("refuses unsupported patch and body media types with 415", async () => {
    expect((await t.raw("POST", gsPath(), { body: gameServer("mt") })).status).toBe(201);
    const yaml = await t.raw("PATCH", gsPath("default", "mt"), { body: "spec: {}", headers: { "Content-Type": "application/apply-patch+yaml" } });
    expectStatus(yaml, 415, "UnsupportedMediaType");
    const put = await t.raw("PUT", gsPath("default", "mt"), { body: "x: 1", headers: { "Content-Type": "application/yaml" } });
    expectStatus(put, 415, "UnsupportedMediaType");
    expect((await t.raw("DELETE", gsPath("default", "mt"))).status).toBe(200);
  });

  it("answers unknown paths and kinds with 404 and unsupported methods with 405", async () => {
    expectStatus(await t.raw("GET", "/apis/zerolaghub.dev/v1alpha1/namespaces/default/widgets"), 404, "NotFound");
    expectStatus(await t.raw("GET", "/nope"), 404, "NotFound");
    expectStatus(await t.raw("GET", `${gsPath("default", "x")}/scale`), 404, "NotFound");
    expectStatus(await t.raw("DELETE", gsPath()), 405, "MethodNotAllowed");
    expectStatus(await t.raw("POST", "/apis/zerolaghub.dev/v1alpha1/gameservers", { body: gameServer("c") }), 405, "MethodNotAllowed");
  });

  it("refuses a malformed resourceVersion and fieldSelector on list and watch with 400", async () => {
    expectStatus(await t.raw("GET", `${gsPath()}?watch=true&resourceVersion=abc`), 400, "BadRequest");
    expectStatus(await t.raw("GET", `${gsPath()}?fieldSelector=spec.game%3Dx`), 400, "BadRequest");
    expectStatus(await t.raw("GET", `${gsPath()}?labelSelector=a%20in%20(b`), 400, "BadRequest");
  });
});

describe("listen address", () => {
  it("accepts loopback addresses only", () => {
    expect(parseListenAddress("127.0.0.1:7443")).toEqual({ host: "127.0.0.1", port: 7443, urlHost: "127.0.0.1" });
    expect(parseListenAddress("[::1]:0")).toEqual({ host: "::1", port: 0, urlHost: "[::1]" });
    expect(parseListenAddress("localhost:80").host).toBe("127.0.0.1");
    for (const bad of ["0.0.0.0:7443", "10.0.0.1:1", "[::]:7443", "example.com:7443"]) {
      expect(() => parseListenAddress(bad)).toThrow(expect.objectContaining({ reason: "NonLoopbackListen" }));
    }
    expect(() => parseListenAddress("7443")).toThrow(expect.objectContaining({ reason: "InvalidListenAddress" }));
  });

  it("refuses to start on a non-loopback address and creates nothing", async () => {
    const dir = makeDataDir();
    try {
      await expect(startApiServer({ dataDir: `${dir}/data`, listen: "0.0.0.0:0", logger: silentLogger })).rejects.toMatchObject({ reason: "NonLoopbackListen" });
      expect(existsSync(`${dir}/data`)).toBe(false);
    } finally {
      removeDir(dir);
    }
  });
});
