// Exercises the adapters against a local HTTP server speaking the Kubernetes
// API, so the real @kubernetes/client-node 1.4.0 code paths (request shapes,
// status-code errors, the watch stream) are covered without a cluster.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig, V1MicroTime, type KubernetesObject } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/engine/clock.js";
import { customResourceInformer, customResourceListFn, customResourcePath } from "../../src/engine/custom-resource-informer.js";
import { ConflictError, coordinationLeaseClient } from "../../src/engine/lease-client.js";
import { ItemExponentialRateLimiter } from "../../src/engine/rate-limiter.js";

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server;
let kc: KubeConfig;
let handler: Handler;
const requests: Array<{ method: string; url: URL; body: string }> = [];

beforeEach(async () => {
  requests.length = 0;
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: new URL(req.url ?? "/", "http://x"), body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "local", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u" }],
    contexts: [{ name: "c", cluster: "local", user: "u" }],
    currentContext: "c",
  });
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const status = (code: number, reason: string) => ({ kind: "Status", apiVersion: "v1", status: "Failure", reason, code });

describe("coordinationLeaseClient", () => {
  it("returns undefined for a missing lease", async () => {
    handler = (_req, res) => json(res, 404, status(404, "NotFound"));
    expect(await coordinationLeaseClient(kc).get("zlh-system", "zlh")).toBeUndefined();
    expect(requests[0]!.url.pathname).toBe("/apis/coordination.k8s.io/v1/namespaces/zlh-system/leases/zlh");
  });

  it("surfaces other API errors unchanged", async () => {
    handler = (_req, res) => json(res, 403, status(403, "Forbidden"));
    await expect(coordinationLeaseClient(kc).get("zlh-system", "zlh")).rejects.toMatchObject({ code: 403 });
  });

  it("turns a 409 on replace into ConflictError and sends microsecond timestamps", async () => {
    handler = (_req, res) => json(res, 409, status(409, "Conflict"));
    const lease = {
      metadata: { namespace: "zlh-system", name: "zlh", resourceVersion: "5" },
      spec: { holderIdentity: "a", renewTime: new V1MicroTime(1_700_000_000_123) },
    };
    await expect(coordinationLeaseClient(kc).replace(lease)).rejects.toBeInstanceOf(ConflictError);
    const req = requests[0]!;
    expect(req.method).toBe("PUT");
    expect(req.url.pathname).toBe("/apis/coordination.k8s.io/v1/namespaces/zlh-system/leases/zlh");
    expect(JSON.parse(req.body)).toMatchObject({
      metadata: { resourceVersion: "5" },
      spec: { renewTime: "2023-11-14T22:13:20.123000Z" },
    });
  });

  it("turns a 409 on create into ConflictError", async () => {
    handler = (_req, res) => json(res, 409, status(409, "AlreadyExists"));
    const lease = { metadata: { namespace: "zlh-system", name: "zlh" }, spec: { holderIdentity: "a" } };
    await expect(coordinationLeaseClient(kc).create(lease)).rejects.toBeInstanceOf(ConflictError);
    expect(requests[0]!.method).toBe("POST");
    expect(requests[0]!.url.pathname).toBe("/apis/coordination.k8s.io/v1/namespaces/zlh-system/leases");
  });
});

describe("custom resource informer wiring", () => {
  const ref = { group: "zerolaghub.dev", version: "v1alpha1", plural: "gameservers" };
  const gs = (name: string, rv: string): KubernetesObject => ({
    apiVersion: "zerolaghub.dev/v1alpha1",
    kind: "GameServer",
    metadata: { namespace: "games", name, resourceVersion: rv },
  });

  it("builds cluster-wide and namespaced paths", () => {
    expect(customResourcePath(ref)).toBe("/apis/zerolaghub.dev/v1alpha1/gameservers");
    expect(customResourcePath({ ...ref, namespace: "games" })).toBe(
      "/apis/zerolaghub.dev/v1alpha1/namespaces/games/gameservers",
    );
  });

  it("lists through CustomObjectsApi with the label selector and returns the raw list", async () => {
    handler = (_req, res) => json(res, 200, { metadata: { resourceVersion: "42" }, items: [gs("mc1", "41")] });
    const list = await customResourceListFn(kc, { ...ref, labelSelector: "tier=prod" })();
    expect(list.items.map((o) => o.metadata?.name)).toEqual(["mc1"]);
    expect(requests[0]!.url.pathname).toBe("/apis/zerolaghub.dev/v1alpha1/gameservers");
    expect(requests[0]!.url.searchParams.get("labelSelector")).toBe("tier=prod");
  });

  it("with the real client-node informer: syncs, restarts after a dropped watch from the last resourceVersion, and stays down after stop", async () => {
    const watches: ServerResponse[] = [];
    const watchArrived: Array<() => void> = [];
    handler = (req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.searchParams.get("watch") !== "true") {
        return json(res, 200, { metadata: { resourceVersion: "10" }, items: [gs("mc1", "9")] });
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.flushHeaders();
      watches.push(res);
      watchArrived.shift()?.();
    };
    const nextWatch = () => new Promise<void>((r) => watchArrived.push(r));
    const clock = new FakeClock(0);
    const informer = customResourceInformer(kc, ref, {
      clock,
      resyncMs: 0,
      restartBackoff: new ItemExponentialRateLimiter(1000, 30_000),
    });
    const added: string[] = [];
    let onAdd: (() => void) | undefined;
    informer.on("add", (o) => {
      added.push(o.metadata!.name!);
      onAdd?.();
    });
    const errored = new Promise<unknown>((r) => informer.on("error", r));

    await informer.start();
    expect(informer.hasSynced()).toBe(true);
    expect(added).toEqual(["mc1"]);
    expect(watches).toHaveLength(1);

    const gotAdd = new Promise<void>((r) => (onAdd = r));
    watches[0]!.write(JSON.stringify({ type: "ADDED", object: gs("mc2", "11") }) + "\n");
    await gotAdd;
    expect(informer.get("games", "mc2")).toBeDefined();

    watches[0]!.socket?.destroy(); // connection reset mid-stream
    await errored;
    const reconnected = nextWatch();
    await clock.advanceAsync(1000);
    await reconnected;
    const watchRequests = requests.filter((r) => r.url.searchParams.get("watch") === "true");
    expect(watchRequests).toHaveLength(2);
    expect(watchRequests[1]!.url.searchParams.get("resourceVersion")).toBe("11");
    expect(requests.filter((r) => r.url.searchParams.get("watch") !== "true")).toHaveLength(1);

    await informer.stop();
    await clock.advanceAsync(120_000);
    expect(requests.filter((r) => r.url.searchParams.get("watch") === "true")).toHaveLength(2);
    expect(clock.pendingTimers()).toBe(0);
  });
});
