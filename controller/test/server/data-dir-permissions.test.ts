import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SECRET_FILES, tightenDataDir } from "../../src/data-dir-permissions.js";
import { tempDir } from "../providers/temp-dir.js";

const mode = (p: string) => statSync(p).mode & 0o7777;

describe("tightenDataDir", () => {
  it("puts a loosened data directory back to 0700 and its secrets to 0600, and says what it changed", () => {
    const dataDir = join(tempDir("data"), ".zlh");
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    for (const f of SECRET_FILES) writeFileSync(join(dataDir, f), "secret", { mode: 0o644 });
    chmodSync(join(dataDir, "tls.key"), 0o666);
    writeFileSync(join(dataDir, "state.db"), "", { mode: 0o644 });

    const changed = tightenDataDir(dataDir);
    expect(mode(dataDir)).toBe(0o700);
    for (const f of ["admin.token", "agent.secret", "tls.key", "kubeconfig"]) expect(mode(join(dataDir, f))).toBe(0o600);
    expect(changed).toContainEqual({ path: join(dataDir, "tls.key"), from: 0o666, to: 0o600 });
    expect(changed).toHaveLength(1 + SECRET_FILES.length);
    // Not a secret: left as it is.
    expect(mode(join(dataDir, "state.db"))).toBe(0o644);
    // Nothing left to do the second time.
    expect(tightenDataDir(dataDir)).toEqual([]);
  });

  it("does not follow a symlink in place of a secret (chmod would change its target)", () => {
    const base = tempDir("data");
    const dataDir = join(base, ".zlh");
    mkdirSync(dataDir, { mode: 0o700 });
    const target = join(base, "elsewhere");
    writeFileSync(target, "not ours", { mode: 0o644 });
    chmodSync(target, 0o644);
    symlinkSync(target, join(dataDir, "admin.token"));
    expect(tightenDataDir(dataDir)).toEqual([]);
    expect(mode(target)).toBe(0o644);
  });

  it("leaves a missing data directory and missing files alone", () => {
    expect(tightenDataDir(join(tempDir("data"), "absent"))).toEqual([]);
  });
});
