// Starts a real API server on 127.0.0.1 (port 0) in a temp data dir, plus a raw HTTP client
// that sends paths exactly as written (no `..` normalisation), for the bad-input tests.
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { startApiServer, type ApiServerOptions, type RunningApiServer } from "../../src/api/server.js";

export const GROUP = "zerolaghub.dev";
export const VERSION = "v1alpha1";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface RawRequest {
  body?: string | Buffer | object;
  headers?: Record<string, string>;
  /** Defaults to the admin token; `null` sends no Authorization header. */
  token?: string | null;
}

export interface TestServer {
  api: RunningApiServer;
  dataDir: string;
  /** KubeConfig loaded from the server's kubeconfig file. */
  kc: KubeConfig;
  raw(method: string, path: string, req?: RawRequest): Promise<RawResponse>;
  stop(): Promise<void>;
  /** stop() and remove the data directory: what every suite does when it ends. */
  dispose(): Promise<void>;
}

export function makeDataDir(): string {
  return mkdtempSync(join(tmpdir(), "zlh-api-test-"));
}

export const silentLogger = pino({ level: "silent" });

export async function startTestServer(options: Partial<ApiServerOptions> = {}, existingDir?: string): Promise<TestServer> {
  const dataDir = existingDir ?? makeDataDir();
  let api: RunningApiServer;
  try {
    api = await startApiServer({ dataDir, listen: "127.0.0.1:0", logger: silentLogger, ...options });
  } catch (e) {
    if (existingDir === undefined) removeDir(dataDir);
    throw e;
  }
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  const raw = (method: string, path: string, req: RawRequest = {}): Promise<RawResponse> =>
    rawRequest(api.url, method, path, { ...req, token: req.token === undefined ? api.token : req.token });
  return {
    api,
    dataDir,
    kc,
    raw,
    stop: async () => {
      await api.close();
    },
    dispose: async () => {
      await api.close();
      removeDir(dataDir);
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function rawRequest(baseUrl: string, method: string, path: string, req: RawRequest = {}): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const body = req.body === undefined ? undefined : typeof req.body === "string" || Buffer.isBuffer(req.body) ? req.body : JSON.stringify(req.body);
  const headers: Record<string, string> = { ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...req.headers };
  if (req.token) headers.Authorization = `Bearer ${req.token}`;
  if (body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const r = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    r.on("error", reject);
    if (body !== undefined) r.write(body);
    r.end();
  });
}

export function gameServer(name = "mc1", extra: { labels?: Record<string, string>; namespace?: string } = {}): Record<string, unknown> {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "GameServer",
    metadata: { name, namespace: extra.namespace ?? "default", ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { game: "generic", command: ["python3", "-m", "http.server"], ports: [{ name: "game", port: 25565 }] },
  };
}

export function devEnvironment(name = "dev1"): Record<string, unknown> {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: "DevEnvironment", metadata: { name }, spec: { ports: [{ port: 8080, expose: true }] } };
}

export const gsPath = (ns = "default", name?: string, sub?: string): string =>
  `/apis/${GROUP}/${VERSION}/namespaces/${ns}/gameservers${name ? `/${name}` : ""}${sub ? `/${sub}` : ""}`;

/** Polls `check` until it returns a value other than undefined, or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
