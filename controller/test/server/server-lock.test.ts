import { describe, it, expect, afterEach } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquireServerLock } from "../../src/server-lock.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "zlh-lock-"));
  dirs.push(d);
  return d;
}

describe("the data-directory lock", () => {
  it("lets one server in and tells a second which pid holds the directory", () => {
    const dir = dataDir();
    const release = acquireServerLock(dir);
    expect(() => acquireServerLock(dir)).toThrow(`data directory ${dir} is in use by another zlh server (pid ${process.pid})`);
    release();
    expect(existsSync(join(dir, "server.lock"))).toBe(false);
    acquireServerLock(dir)();
  });

  it("takes over a lock whose holder is gone", () => {
    const dir = dataDir();
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    writeFileSync(join(dir, "server.lock"), JSON.stringify({ pid: dead, startTime: 1 }));
    const release = acquireServerLock(dir);
    expect(() => acquireServerLock(dir)).toThrow(/in use/);
    release();
  });
});
