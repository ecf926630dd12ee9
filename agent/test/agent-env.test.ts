import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readAgentEnv } from "../src/agent-env.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const good = {
  ZLH_CONTROLLER_URL: "http://127.0.0.1:7070/",
  ZLH_TOKEN_FILE: "/run/zlh/token",
  ZLH_RESOURCE: "gameservers/default/mc-1",
  ZLH_ROOT: "/var/lib/zlh/w/mc-1",
  ZLH_IP: "127.77.0.100",
  ZLH_HOSTNAME: "mc-1",
  ZLH_VMID: "5001",
};

describe("readAgentEnv", () => {
  it("parses a complete environment", () => {
    expect(readAgentEnv(good)).toEqual({
      controllerUrl: "http://127.0.0.1:7070",
      tokenFile: "/run/zlh/token",
      resource: { plural: "gameservers", namespace: "default", name: "mc-1" },
      root: "/var/lib/zlh/w/mc-1",
      ip: "127.77.0.100",
      hostname: "mc-1",
      vmid: 5001,
    });
  });

  it.each([
    ["ZLH_IP", undefined, /ZLH_IP is not set/],
    ["ZLH_IP", "localhost", /ZLH_IP "localhost" is not an IP address/],
    ["ZLH_RESOURCE", "pods/default/x", /ZLH_RESOURCE "pods\/default\/x" must be/],
    ["ZLH_RESOURCE", "gameservers/default", /ZLH_RESOURCE/],
    ["ZLH_ROOT", "relative/dir", /ZLH_ROOT "relative\/dir" must be an absolute path/],
    ["ZLH_VMID", "abc", /ZLH_VMID "abc" must be a non-negative integer/],
    ["ZLH_CONTROLLER_URL", "ftp://x", /must be http or https/],
    ["ZLH_TOKEN_FILE", "", /ZLH_TOKEN_FILE is not set/],
  ])("rejects %s=%s with a message naming it", (name, value, message) => {
    const env: Record<string, string | undefined> = { ...good, [name]: value };
    expect(() => readAgentEnv(env)).toThrow(message);
  });

  it("makes the agent exit non-zero with a one-line message when a variable is missing", () => {
    const { ZLH_IP: _omit, ...rest } = good;
    const r = spawnSync(process.execPath, ["--import", "tsx", "agent/src/main.ts"], {
      cwd: repo,
      env: { PATH: process.env.PATH, ...rest },
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual(["zlh-agent: ZLH_IP is not set (the address the server binds)"]);
  });
});
