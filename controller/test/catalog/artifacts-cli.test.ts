// `zlh artifacts publish|promote|serve` and `zlh catalog`, in-process through runCli, with
// real files and the real artifact server on 127.0.0.1:0.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readCatalog } from "../../src/catalog/catalog-file.js";
import { startArtifactServer, type RunningArtifactServer } from "../../src/catalog/artifact-server.js";
import { runCli } from "../../src/cli/main.js";
import { captureIO, tempDir } from "../cli/fixtures.js";

let tmp: ReturnType<typeof tempDir>;
let server: RunningArtifactServer | undefined;
beforeEach(() => {
  tmp = tempDir("zlh-artifacts-");
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  tmp.cleanup();
});

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

async function publish(file: string, ...args: string[]) {
  const io = captureIO();
  const code = await runCli(["artifacts", "publish", file, "--dir", join(tmp.dir, "art"), ...args], io);
  return { code, io };
}

describe("zlh artifacts publish", () => {
  it("records sha256, size, platform, channel, source and bin in a catalog that validates", async () => {
    const file = tmp.write("node.tar.gz", "pretend archive");
    const { code, io } = await publish(file, "--name", "node", "--version", "20.1.0", "--platform", "linux-x64", "--bin", "bin", "--bin", "lib/node_modules/npm/bin");
    expect(io.stderr).toEqual([]);
    expect(code).toBe(0);
    expect(io.stdout[0]).toBe(`published node 20.1.0 linux-x64 beta sha256:${sha("pretend archive")} 15 bytes`);
    const [a] = readCatalog(join(tmp.dir, "art")).artifacts;
    expect(a).toMatchObject({ name: "node", version: "20.1.0", platform: "linux-x64", sha256: sha("pretend archive"), size: 15, channel: "beta", kind: "runtime", source: file, bin: ["bin", "lib/node_modules/npm/bin"] });
    expect(Date.parse(a!.published)).toBe(io.clock.now());
    expect(readFileSync(join(tmp.dir, "art", a!.file), "utf8")).toBe("pretend archive");
  });

  it("is idempotent for the same bytes and refuses other bytes under a published version, naming both hashes", async () => {
    const file = tmp.write("a.tar", "one");
    expect((await publish(file, "--name", "node", "--version", "1")).code).toBe(0);
    const again = await publish(file, "--name", "node", "--version", "1");
    expect(again.io.stdout[0]).toMatch(/^unchanged node 1 /);
    writeFileSync(file, "two");
    const other = await publish(file, "--name", "node", "--version", "1");
    expect(other.code).toBe(1);
    expect(other.io.stderr[0]).toContain(`already published with sha256 ${sha("one")}; this file has ${sha("two")}`);
    expect(readCatalog(join(tmp.dir, "art")).artifacts).toHaveLength(1);
  });

  it.each([
    [["--name", "Bad_Name", "--version", "1"], "--name: must be a DNS-1123 label"],
    [["--name", "node", "--version", "../1"], "--version: must match"],
    [["--name", "node", "--version", "1", "--bin", "../etc"], "--bin: must match"],
    [["--name", "node", "--version", "1", "--channel", "nightly"], "--channel must be stable or beta"],
  ])("refuses bad flags %j in one line naming the flag", async (args, message) => {
    const { code, io } = await publish(tmp.write("f", "x"), ...args);
    expect(code).toBe(1);
    expect(io.stderr).toHaveLength(1);
    expect(io.stderr[0]).toContain(message);
  });

  it("refuses a missing file or a directory", async () => {
    expect((await publish(join(tmp.dir, "nope"), "--name", "n", "--version", "1")).io.stderr[0]).toContain("cannot read");
    expect((await publish(tmp.dir, "--name", "n", "--version", "1")).io.stderr[0]).toContain("is not a regular file");
  });
});

describe("zlh artifacts promote and zlh catalog", () => {
  it("moves a version between channels and lists names, versions and channels", async () => {
    await publish(tmp.write("a", "a"), "--name", "node", "--version", "20.9.0", "--platform", "linux-x64");
    await publish(tmp.write("b", "b"), "--name", "node", "--version", "20.19.0", "--platform", "linux-x64");
    const io = captureIO();
    expect(await runCli(["artifacts", "promote", "node", "20.19.0", "--channel", "stable", "--dir", join(tmp.dir, "art")], io)).toBe(0);
    expect(io.stdout).toEqual(["node 20.19.0 linux-x64 is now stable"]);
    const list = captureIO();
    expect(await runCli(["catalog", "--dir", join(tmp.dir, "art")], list)).toBe(0);
    expect(list.stdout[0]).toMatch(/^NAME\s+VERSION\s+CHANNEL\s+PLATFORM\s+KIND\s+SIZE\s+PUBLISHED$/);
    // newest first, numerically (20.19 > 20.9)
    expect(list.stdout.slice(1).map((l) => l.split(/\s+/).slice(0, 3).join(" "))).toEqual(["node 20.19.0 stable", "node 20.9.0 beta"]);
    const missing = captureIO();
    expect(await runCli(["artifacts", "promote", "node", "7", "--channel", "stable", "--dir", join(tmp.dir, "art")], missing)).toBe(1);
    expect(missing.stderr[0]).toBe("error: node 7 is not published (published: 20.9.0, 20.19.0)");
  });

  it("lists through an artifact server with --url", async () => {
    await publish(tmp.write("a", "a"), "--name", "node", "--version", "1.0.0", "--platform", "any");
    server = await startArtifactServer({ dir: join(tmp.dir, "art"), host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
    const io = captureIO();
    expect(await runCli(["catalog", "--url", server.url, "-o", "json"], io)).toBe(0);
    expect(JSON.parse(io.stdout.join("\n"))).toEqual([expect.objectContaining({ name: "node", kind: "runtime", versions: [expect.objectContaining({ version: "1.0.0", channel: "beta", platform: "any", size: 1 })] })]);
  });
});

describe("the artifact server", () => {
  async function serve() {
    server = await startArtifactServer({ dir: join(tmp.dir, "art"), host: "127.0.0.1", port: 0, logger: pino({ level: "silent" }) });
    return server.url;
  }

  it("serves listed files with their checksum and resumes with Range", async () => {
    await publish(tmp.write("rt.tar", "0123456789"), "--name", "rt", "--version", "1");
    const url = await serve();
    const [a] = readCatalog(join(tmp.dir, "art")).artifacts;
    const full = await fetch(`${url}/${a!.file}`);
    expect(full.status).toBe(200);
    expect(full.headers.get("x-checksum-sha256")).toBe(sha("0123456789"));
    expect(await full.text()).toBe("0123456789");
    const rest = await fetch(`${url}/${a!.file}`, { headers: { Range: "bytes=4-" } });
    expect(rest.status).toBe(206);
    expect(rest.headers.get("content-range")).toBe("bytes 4-9/10");
    expect(await rest.text()).toBe("456789");
    expect((await fetch(`${url}/${a!.file}`, { headers: { Range: "bytes=99-" } })).status).toBe(416);
  });

  it("serves nothing that the catalog does not list, and refuses a file whose bytes no longer match", async () => {
    await publish(tmp.write("rt.tar", "good"), "--name", "rt", "--version", "1");
    tmp.write("art/files/stray.tar", "stray");
    const url = await serve();
    expect((await fetch(`${url}/files/stray.tar`)).status).toBe(404);
    expect((await fetch(`${url}/catalog.json`)).status).toBe(404);
    expect((await fetch(`${url}/files/../catalog.json`)).status).toBe(404);
    const [a] = readCatalog(join(tmp.dir, "art")).artifacts;
    writeFileSync(join(tmp.dir, "art", a!.file), "evil"); // same size, other bytes
    const res = await fetch(`${url}/${a!.file}`);
    expect(res.status).toBe(409);
    expect((await res.json()).error).toContain(`has sha256 ${sha("evil")}, the catalog says ${sha("good")}`);
  });

  it("`zlh artifacts serve` refuses a bad --listen in one line", async () => {
    const io = captureIO();
    expect(await runCli(["artifacts", "serve", tmp.dir, "--listen", "nowhere"], io)).toBe(1);
    expect(io.stderr).toEqual([`error: --listen "nowhere" must be IP:port, e.g. 127.0.0.1:7480 (port 0 picks a free one)`]);
  });
});
