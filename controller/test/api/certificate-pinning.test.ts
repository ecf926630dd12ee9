// The kubeconfig pins the server's certificate: kubectl, client-node and the compiled zlh
// CLI reach the server it was written for, and refuse another server at the same kind of
// address (here: a second embedded server, with a certificate of its own).
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { GROUP, removeDir, startTestServer, VERSION, type TestServer } from "./api-test-server.js";

const KUBECTL = "/usr/bin/kubectl";
const ZLH = join(import.meta.dirname, "../../../bin/zlh.mjs");

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

describe("certificate pinning", () => {
  let a: TestServer;
  let b: TestServer;
  let work: string;
  /** A's kubeconfig with its `zlh` cluster pointed at B's https URL (and B's token, so only the certificate differs). */
  let forged: string;

  beforeAll(async () => {
    a = await startTestServer();
    b = await startTestServer();
    work = mkdtempSync(join(tmpdir(), "zlh-pin-"));
    const config = parse(readFileSync(a.api.kubeconfigPath, "utf8"));
    const bConfig = parse(readFileSync(b.api.kubeconfigPath, "utf8"));
    config.clusters.find((c: { name: string }) => c.name === "zlh").cluster.server = bConfig.clusters.find((c: { name: string }) => c.name === "zlh").cluster.server;
    config.users[0].user.token = b.api.token;
    forged = join(work, "forged-kubeconfig");
    writeFileSync(forged, stringify(config));
  });
  afterAll(async () => {
    await a.dispose();
    await b.dispose();
    removeDir(work);
  });

  it("writes certificate-authority-data for the https context and a certificate covering the loopback names", () => {
    const config = parse(readFileSync(a.api.kubeconfigPath, "utf8"));
    const zlh = config.clusters.find((c: { name: string }) => c.name === "zlh").cluster;
    expect(zlh["insecure-skip-tls-verify"]).toBeUndefined();
    const cert = new X509Certificate(Buffer.from(zlh["certificate-authority-data"], "base64"));
    expect(cert.toString()).toBe(new X509Certificate(readFileSync(join(a.dataDir, "tls.crt"))).toString());
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.verify(cert.publicKey)).toBe(true);
  });

  it("lets client-node reach its own server over https and refuses the other one", async () => {
    const own = new KubeConfig();
    own.loadFromFile(a.api.kubeconfigPath);
    expect(own.getCurrentCluster()?.server).toMatch(/^https:/);
    const list = await own.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: GROUP, version: VERSION, plural: "gameservers" });
    expect(list.items).toEqual([]);
    const other = new KubeConfig();
    other.loadFromFile(forged);
    const err = await other
      .makeApiClient(CustomObjectsApi)
      .listClusterCustomObject({ group: GROUP, version: VERSION, plural: "gameservers" })
      .then(() => undefined, (e: unknown) => e);
    expect(String((err as { code?: string })?.code ?? err)).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT|certificate/i);
  });

  it.runIf(existsSync(KUBECTL))("lets kubectl reach its own server and refuses the other one", async () => {
    const own = await run(KUBECTL, ["--kubeconfig", a.api.kubeconfigPath, "--cache-dir", join(work, "cache-a"), "get", "gs"]);
    expect(own.stderr).toMatch(/No resources found/);
    expect(own.code).toBe(0);
    const other = await run(KUBECTL, ["--kubeconfig", forged, "--cache-dir", join(work, "cache-b"), "get", "gs"]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/x509|certificate/i);
  });

  it("lets the compiled zlh CLI reach its own server and refuses the other one", async () => {
    const own = await run(process.execPath, [ZLH, "get", "gs", "--kubeconfig", a.api.kubeconfigPath]);
    expect(own.code).toBe(0);
    const other = await run(process.execPath, [ZLH, "get", "gs", "--kubeconfig", forged]);
    expect(other.code).not.toBe(0);
    expect(other.stdout + other.stderr).toMatch(/certificate|self.signed|verify/i);
  });

  it("replaces a stored certificate that does not cover the listen address", async () => {
    const dir = mkdtempSync(join(tmpdir(), "zlh-pin-addr-"));
    try {
      const first = await startTestServer({}, dir);
      await first.stop();
      const before = readFileSync(join(dir, "tls.crt"), "utf8");
      const second = await startTestServer({ listen: "127.0.0.2:0" }, dir);
      try {
        const after = new X509Certificate(readFileSync(join(dir, "tls.crt")));
        expect(after.toString()).not.toBe(new X509Certificate(before).toString());
        expect(after.checkIP("127.0.0.2")).toBe("127.0.0.2");
        const kc = new KubeConfig();
        kc.loadFromFile(second.api.kubeconfigPath);
        expect((await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({ group: GROUP, version: VERSION, plural: "gameservers" })).items).toEqual([]);
      } finally {
        await second.stop();
      }
    } finally {
      removeDir(dir);
    }
  });
});
