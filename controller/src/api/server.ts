// The embedded Kubernetes-style API server: SQLite store, admin-token auth, discovery,
// custom resources, Events, Leases and watches, enough for client-node and stock kubectl.
import { mkdirSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import express from "express";
import { pino, type Logger } from "pino";
import { realClock, type Clock } from "../engine/clock.js";
import { SqliteStore } from "../store/sqlite-store.js";
import { apiErrors } from "./api-error.js";
import { createApiMetrics, type ApiMetrics } from "./api-metrics.js";
import { bearerAuthenticator } from "./bearer-auth.js";
import { SERVER_INFO_FILE, loadOrCreateAdminToken, loadOrCreateServingCertificate, writeKubeconfig, writeServerInfo } from "./credentials.js";
import { discoveryDocument } from "./discovery.js";
import { events } from "./resource-types.js";
import { createDualProtocolServer } from "./dual-protocol-server.js";
import { parseListenAddress } from "./listen-address.js";
import { namespacesResponse } from "./namespaces.js";
import { openApiDocument } from "./openapi.js";
import { EventRetention, type EventLimits } from "./event-retention.js";
import { handleObjectRequest, verbOf, type Admission, type ObjectRoutesContext } from "./object-routes.js";
import { parseTarget } from "./request-path.js";
import { sendError, sendJson } from "./respond.js";
import { WatchHub } from "./watch-stream.js";

export interface ApiServerOptions {
  dataDir: string;
  /** "127.0.0.1:7443" (the default); port 0 picks a free port. Loopback only. */
  listen?: string;
  logger?: Logger;
  /** Store events kept in memory for watch resume (default 10000). */
  watchHistory?: number;
  /** Watches end cleanly after about this many seconds, jittered (default 300). */
  maxWatchSeconds?: number;
  /** Interval of BOOKMARK events for watches that allow them (default 60). */
  bookmarkSeconds?: number;
  /** Bytes a watch may have queued unread before it is closed (default 16 MiB). */
  watchBufferBytes?: number;
  /** Bytes all watches together may have queued; past it the slowest are closed (default 256 MiB). */
  watchTotalBufferBytes?: number;
  /** Events kept per namespace and in total; the oldest beyond go, in batches (default 1000 and 20000). */
  eventLimits?: Partial<EventLimits>;
  /** Checks writes of every kind before they are stored (see Admission). */
  admission?: Admission;
  /** Caps the database at this many pages; tests use it to make the disk full. */
  storeMaxPageCount?: number;
  /** Time source for timestamps and watch timers (tests inject a FakeClock). */
  clock?: Clock;
}

export interface RunningApiServer {
  /** http://127.0.0.1:PORT (the same port also answers https://, which the kubeconfig uses for kubectl). */
  url: string;
  /** The same address over TLS: the kubeconfig's current context. */
  httpsUrl: string;
  token: string;
  kubeconfigPath: string;
  close(): Promise<void>;
}

const HEALTH_PATHS = new Set(["/healthz", "/readyz", "/livez"]);

interface Handlers {
  ctx: ObjectRoutesContext;
  metrics: ApiMetrics;
  authenticate: (req: IncomingMessage) => boolean;
  serverAddress: () => string;
  logger: Logger;
}

function splitUrl(url: string): { path: string; query: URLSearchParams } {
  // Split by hand: URL parsing would resolve `..` segments before names are checked.
  const q = url.indexOf("?");
  return q < 0 ? { path: url, query: new URLSearchParams() } : { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) };
}

// Discovery and OpenAPI are JSON only; a client that accepts only protobuf gets a 406 it
// can act on instead of bytes it cannot parse.
function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept.split(",").some((part) => {
    const type = part.split(";")[0]!.trim().toLowerCase();
    return type === "application/json" || type === "application/*" || type === "*/*";
  });
}

async function dispatch(h: Handlers, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = process.hrtime.bigint();
  const method = req.method ?? "GET";
  const { path, query } = splitUrl(req.url ?? "/");
  let verb = method.toLowerCase();
  let resource = "other";
  res.on("close", () => {
    const code = String(res.statusCode);
    h.metrics.requests.inc({ verb, resource, code });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (verb !== "watch") h.metrics.duration.observe({ verb, resource }, seconds);
    h.logger.debug({ method, path, verb, resource, code: res.statusCode, ms: Math.round(seconds * 1000) }, "request");
  });
  try {
    if (HEALTH_PATHS.has(path)) {
      resource = "health";
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
      res.end("ok");
      return;
    }
    if (!h.authenticate(req)) throw apiErrors.unauthorized();
    if (path === "/metrics") {
      resource = "metrics";
      const text = await h.metrics.registry.metrics();
      res.writeHead(200, { "Content-Type": h.metrics.registry.contentType });
      res.end(text);
      return;
    }
    const doc = discoveryDocument(path, h.serverAddress()) ?? openApiDocument(path);
    if (doc) {
      resource = "discovery";
      if (method !== "GET") throw apiErrors.methodNotAllowed(method, path);
      if (!acceptsJson(req.headers.accept)) throw apiErrors.notAcceptable(req.headers.accept ?? "", "application/json");
      return sendJson(res, 200, doc);
    }
    const target = parseTarget(path);
    if (!target) throw apiErrors.pathNotFound(path);
    if (target.what === "namespaces") {
      resource = "namespaces";
      return sendJson(res, 200, await namespacesResponse(h.ctx.store, method, target.name));
    }
    resource = target.subresource ? `${target.type.plural}/status` : target.type.plural;
    verb = verbOf(method, target, query);
    await handleObjectRequest(h.ctx, req, res, target, query);
  } catch (err) {
    sendError(res, err, h.logger);
  }
}

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const logger = opts.logger ?? pino({ name: "zlh-api" });
  const address = parseListenAddress(opts.listen ?? "127.0.0.1:7443");
  const clock = opts.clock ?? realClock;
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const token = loadOrCreateAdminToken(opts.dataDir);
  const tls = loadOrCreateServingCertificate(opts.dataDir, clock.now(), address.host);
  const store = new SqliteStore({ path: join(opts.dataDir, "store.db"), watchHistory: opts.watchHistory, maxPageCount: opts.storeMaxPageCount });
  const watches = new WatchHub(
    store,
    {
      maxWatchSeconds: opts.maxWatchSeconds ?? 300,
      bookmarkSeconds: opts.bookmarkSeconds ?? 60,
      bufferBytes: opts.watchBufferBytes ?? 16 * 1024 * 1024,
      totalBufferBytes: opts.watchTotalBufferBytes ?? 256 * 1024 * 1024,
      clock,
      random: Math.random,
    },
    logger,
  );
  const metrics = createApiMetrics(store, watches);
  const limits: EventLimits = { perNamespace: 1000, total: 20_000, ...opts.eventLimits };
  let serverAddress = "";
  const handlers: Handlers = {
    ctx: { store, watches, clock, events: new EventRetention(store, events.storeKey, limits, logger), admission: opts.admission, logger },
    metrics,
    authenticate: bearerAuthenticator(token),
    serverAddress: () => serverAddress,
    logger,
  };

  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.use((req, res) => dispatch(handlers, req, res));
  let listening: ReturnType<typeof createDualProtocolServer>;
  try {
    listening = createDualProtocolServer(app, tls);
    const { server } = listening;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(address.port, address.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  const { server, close: closeServer } = listening;
  const port = (server.address() as AddressInfo).port;
  serverAddress = `${address.urlHost}:${port}`;
  const url = `http://${serverAddress}`;
  const httpsUrl = `https://${serverAddress}`;
  const kubeconfigPath = writeKubeconfig(opts.dataDir, { http: url, https: httpsUrl }, token, tls.cert);
  writeServerInfo(opts.dataDir, url);
  logger.info({ url, dataDir: opts.dataDir, resourceVersion: await store.resourceVersion() }, "api server started");

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      watches.closeAll();
      await closeServer();
      await store.close();
      rmSync(join(opts.dataDir, SERVER_INFO_FILE), { force: true });
      logger.info({ url }, "api server stopped");
    })();
    return closing;
  };
  return { url, httpsUrl, token, kubeconfigPath, close };
}
