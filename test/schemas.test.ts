import { describe, it, expect } from "vitest";
import { validateDocument } from "../schemas/validate.js";

const gs = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: "mc1" }) => ({
  apiVersion: "zerolaghub.dev/v1alpha1",
  kind: "GameServer",
  metadata,
  spec: { game: "generic", command: ["srv"], ports: [{ name: "game", port: 25565 }], ...spec },
});

describe("resource schemas", () => {
  it("accept a minimal GameServer and DevEnvironment", () => {
    expect(validateDocument("GameServer", gs({}))).toEqual([]);
    expect(validateDocument("DevEnvironment", { apiVersion: "zerolaghub.dev/v1alpha1", kind: "DevEnvironment", metadata: { name: "d" }, spec: {} })).toEqual([]);
  });

  it.each([
    ["My_Server", ".metadata.name"],
    ["../x", ".metadata.name"],
    ["a".repeat(64), ".metadata.name"],
  ])("reject the name %j at %s", (name, path) => {
    expect(validateDocument("GameServer", gs({}, { name })).map((e) => e.path)).toContain(path);
  });

  it.each(["bad`host", "two words", "UPPER", "a.b"])("reject hostname %j before it can reach a Traefik rule", (hostname) => {
    const errs = validateDocument("GameServer", gs({ hostname }));
    expect(errs).toEqual([expect.objectContaining({ path: ".spec.hostname" })]);
    expect(errs[0]!.message).toMatch(/DNS-1123/);
  });

  it("refuse NUL bytes anywhere outside status and terminal controls in command, env and the stop command", () => {
    expect(validateDocument("GameServer", gs({ command: ["srv", "a\u0000"] }))).toEqual([{ path: ".spec.command[1]", message: "must not contain a NUL byte (U+0000)" }]);
    expect(validateDocument("GameServer", gs({ env: { T: "\u001b]2;title\u0007" } }))).toEqual([{ path: ".spec.env.T", message: "must not contain an escape character (U+001B)" }]);
    expect(validateDocument("GameServer", gs({ shutdown: { command: "stop\n" } }))).toEqual([{ path: ".spec.shutdown.command", message: "must not contain a newline (U+000A)" }]);
    expect(validateDocument("GameServer", gs({}, { name: "mc1", annotations: { "a/b": "x\u0000" } }))).toEqual([{ path: '.metadata.annotations["a/b"]', message: "must not contain a NUL byte (U+0000)" }]);
    expect(validateDocument("DevEnvironment", { apiVersion: "zerolaghub.dev/v1alpha1", kind: "DevEnvironment", metadata: { name: "d" }, spec: { env: { A: "\u0007" } } })).toEqual([{ path: ".spec.env.A", message: "must not contain a control character (U+0007)" }]);
    expect(validateDocument("GameServer", gs({ command: ["sh", "-c", "a\n\tb"], env: { M: "1\n2\t3" } }))).toEqual([]);
  });

  it("refuse a NUL in a key (found by npm run fuzz) and a finalizer that is not a qualified name", () => {
    expect(validateDocument("GameServer", gs({}, { name: "mc1", annotations: { "a\u0000b": "x" } }))).toEqual([{ path: '.metadata.annotations["a\\u0000b"]', message: "key must not contain a NUL byte (U+0000)" }]);
    expect(validateDocument("GameServer", gs({}, { name: "mc1", finalizers: ["../../x"] })).map((e) => e.path)).toEqual([".metadata.finalizers[0]"]);
    expect(validateDocument("GameServer", gs({}, { name: "mc1", finalizers: ["zerolaghub.dev/cleanup", "foregroundDeletion"] }))).toEqual([]);
  });

  it("names unknown fields", () => {
    expect(validateDocument("GameServer", gs({ replicas: 3 }))).toEqual([{ path: ".spec.replicas", message: "unknown field" }]);
  });

  it("rejects a wrong apiVersion and kind", () => {
    const errs = validateDocument("GameServer", { ...gs({}), apiVersion: "v1", kind: "Pod" });
    expect(errs.map((e) => e.path).sort()).toEqual([".apiVersion", ".kind"]);
  });

  it.each([0, 65536, 1.5, -1])("rejects port %j as out of range", (port) => {
    expect(validateDocument("GameServer", gs({ ports: [{ name: "game", port }] })).map((e) => e.path)).toEqual([".spec.ports[0].port"]);
  });

  it("rejects duplicate ports and duplicate port names, naming the second one", () => {
    const errs = validateDocument("GameServer", gs({ ports: [{ name: "game", port: 25565 }, { name: "game", port: 25565 }] }));
    expect(errs).toEqual([
      { path: ".spec.ports[1].port", message: expect.stringMatching(/duplicate port/) },
      { path: ".spec.ports[1].name", message: expect.stringMatching(/duplicate port name/) },
    ]);
  });

  it("rejects a readiness port that is not declared", () => {
    expect(validateDocument("GameServer", gs({ readiness: { tcp: { port: 1234 } } }))[0]?.path).toBe(".spec.readiness.tcp.port");
  });

  it("rejects an invalid readiness regular expression", () => {
    expect(validateDocument("GameServer", gs({ readiness: { logLine: { pattern: "(" } } }))[0]?.path).toBe(".spec.readiness.logLine.pattern");
  });

  it("rejects a dev port that collides with code-server", () => {
    const d = { apiVersion: "zerolaghub.dev/v1alpha1", kind: "DevEnvironment", metadata: { name: "d" }, spec: { ports: [{ port: 6000 }] } };
    expect(validateDocument("DevEnvironment", d)[0]?.path).toBe(".spec.ports[0].port");
  });

  it("reserves ZLH_ environment names for zlh itself", () => {
    expect(validateDocument("GameServer", gs({ env: { ZLH_ROOT: "/elsewhere" } })).map((e) => e.path)).toEqual(['.spec.env["ZLH_ROOT"]']);
    expect(validateDocument("GameServer", gs({ env: { ZLHX: "ok", MY_ZLH_VAR: "ok" } }))).toEqual([]);
  });

  it("rejects bad env names and label keys", () => {
    const errs = validateDocument("GameServer", gs({ env: { "BAD NAME": "x" } }, { name: "x", labels: { "a b": "c" } }));
    expect(errs.map((e) => e.path).sort()).toEqual(['.metadata.labels["a b"]', '.spec.env["BAD NAME"]']);
  });
});

describe("agent report schema", () => {
  it("requires state, restarts, provisioningComplete, version and an RFC 3339 time", () => {
    expect(validateDocument("AgentReport", { state: "running", restarts: 0, provisioningComplete: true, version: "0.1.0", time: "2026-11-27T06:00:00Z" })).toEqual([]);
    expect(validateDocument("AgentReport", { state: "flying", restarts: -1, provisioningComplete: true, version: "0.1.0", time: "yesterday" }).map((e) => e.path).sort()).toEqual([".restarts", ".state", ".time"]);
  });
});
