// The HTTP endpoint agents talk to. It is separate from the Kubernetes-style API because an
// agent must never hold controller credentials: its token opens exactly one resource's
// spec and report, and nothing else.
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import express, { type NextFunction, type Request, type Response } from "express";
import { pino, type Logger } from "pino";
import type { Registry } from "prom-client";
import type { AgentReport, DevEnvironment, GameServer } from "../../../schemas/generated/types.js";
import { validateDocument } from "../../../schemas/validate.js";
import { isWellFormedAgentToken, verifyAgentToken } from "./agent-token.js";
import { agentReportKey, type AgentReportStore } from "./agent-report-store.js";

export type AgentResource = GameServer | DevEnvironment;

const KINDS: Record<string, AgentResource["kind"]> = {
  gameservers: "GameServer",
  devenvironments: "DevEnvironment",
};

/** Body of `GET /agent/v1/{plural}/{ns}/{name}/spec`. The agent keeps its own copy of this shape. */
export interface AgentSpecResponse {
  apiVersion: string;
  kind: AgentResource["kind"];
  metadata: { name: string; namespace: string; uid: string; generation: number };
  spec: AgentResource["spec"];
  ports: NonNullable<NonNullable<AgentResource["status"]>["ports"]>;
  heartbeatSeconds: number;
  /** Artifacts resolved from the catalog for this spec (the runtime to install). */
  artifacts?: { runtime?: { name: string; version: string; url: string; sha256: string; size: number; bin: string[] }; runtimeError?: string };
}

export interface AgentEndpointOptions {
  secret: Buffer;
  /** Reads the informer cache; never the API, so a flood of agents costs no API calls. */
  lookup: (plural: string, namespace: string, name: string) => AgentResource | undefined;
  reports: AgentReportStore;
  clock: { now(): number };
  logger?: Logger;
  heartbeatSeconds: number;
  /** Served at /metrics when given. */
  registry?: Registry;
  /** Resolves what a spec needs from the artifact catalog. */
  artifacts?: (resource: AgentResource) => AgentSpecResponse["artifacts"];
  /** /readyz answers 503 until this returns true (caches synced and leading). */
  ready?: () => boolean;
}

const BODY_LIMIT = "64kb";

interface ErrorBody {
  reason: string;
  message: string;
  causes?: { field: string; message: string }[];
}

function fail(res: Response, status: number, body: ErrorBody): void {
  res.status(status).json(body);
}

interface Authorized {
  plural: string;
  namespace: string;
  name: string;
  resource: AgentResource;
}

/**
 * Resolves the resource in the URL and checks the bearer token against it. 401 means "who
 * are you", 403 "not this resource" (including a token minted for an earlier uid).
 */
function authorize(opts: AgentEndpointOptions, log: Logger, req: Request, res: Response): Authorized | undefined {
  const { plural, namespace, name } = req.params as Record<string, string>;
  const resourceKey = `${plural}/${namespace}/${name}`;
  const header = req.get("authorization") ?? "";
  const token = /^Bearer (\S+)$/.exec(header)?.[1];
  if (!token || !isWellFormedAgentToken(token)) {
    log.warn({ resource: resourceKey, cause: token ? "malformed" : "missing" }, "agent unauthorized");
    fail(res, 401, { reason: "Unauthorized", message: "an agent bearer token (zlha.…) is required" });
    return undefined;
  }
  const resource = Object.hasOwn(KINDS, plural!) ? opts.lookup(plural!, namespace!, name!) : undefined;
  if (!resource) {
    fail(res, 404, { reason: "NotFound", message: `${resourceKey} not found` });
    return undefined;
  }
  const uid = resource.metadata.uid;
  if (!uid || !verifyAgentToken(opts.secret, { plural: plural!, namespace: namespace!, name: name!, uid }, token)) {
    log.warn({ resource: resourceKey }, "agent forbidden");
    fail(res, 403, { reason: "Forbidden", message: `the token is not valid for ${resourceKey}` });
    return undefined;
  }
  return { plural: plural!, namespace: namespace!, name: name!, resource };
}

export function createAgentEndpoint(opts: AgentEndpointOptions): express.Express {
  const log = opts.logger ?? pino({ level: "silent" });
  const app = express();
  app.disable("x-powered-by");

  app.get("/healthz", (_req, res) => {
    res.status(200).json({ status: "ok" });
  });
  // The controller's own probes and metrics ride on this listener: one port per controller.
  app.get("/readyz", (_req, res) => {
    const ready = opts.ready?.() ?? true;
    res.status(ready ? 200 : 503).json({ status: ready ? "ok" : "not ready" });
  });
  const registry = opts.registry;
  if (registry) {
    app.get("/metrics", async (_req, res) => {
      res.type(registry.contentType).send(await registry.metrics());
    });
  }

  // Authorization runs before the body is parsed: a caller without a valid token costs no JSON parsing.
  const authorized = (req: Request, res: Response, next: NextFunction): void => {
    const auth = authorize(opts, log, req, res);
    if (!auth) return;
    res.locals.auth = auth;
    next();
  };

  app.get("/agent/v1/:plural/:namespace/:name/spec", authorized, (_req, res) => {
    const auth = res.locals.auth as Authorized;
    const { resource } = auth;
    const body: AgentSpecResponse = {
      apiVersion: resource.apiVersion,
      kind: resource.kind,
      metadata: {
        name: resource.metadata.name,
        namespace: auth.namespace,
        uid: resource.metadata.uid!,
        generation: resource.metadata.generation ?? 0,
      },
      spec: resource.spec,
      ports: resource.status?.ports ?? [],
      heartbeatSeconds: opts.heartbeatSeconds,
    };
    const artifacts = opts.artifacts?.(resource);
    if (artifacts) body.artifacts = artifacts;
    res.status(200).json(body);
  });

  app.post(
    "/agent/v1/:plural/:namespace/:name/report",
    authorized,
    express.json({ limit: BODY_LIMIT, strict: true }),
    (req, res) => {
      const auth = res.locals.auth as Authorized;
      const errors = validateDocument("AgentReport", req.body);
      if (errors.length > 0) {
        fail(res, 400, {
          reason: "Invalid",
          message: `invalid agent report: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`,
          causes: errors.map((e) => ({ field: e.path, message: e.message })),
        });
        return;
      }
      const key = agentReportKey(auth.plural, auth.namespace, auth.name);
      opts.reports.record(key, req.body as AgentReport);
      res.status(200).json({ generation: auth.resource.metadata.generation ?? 0 });
    },
  );

  app.use((_req: Request, res: Response) => {
    fail(res, 404, { reason: "NotFound", message: "no such agent endpoint" });
  });

  // express.json reports bad JSON and oversized bodies by throwing; answer them in our format.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === "entity.too.large") {
      fail(res, 413, { reason: "RequestEntityTooLarge", message: `report body exceeds ${BODY_LIMIT}` });
    } else if (e.status === 400 || e.type === "entity.parse.failed") {
      fail(res, 400, { reason: "Invalid", message: `report body is not valid JSON: ${e.message ?? "parse error"}` });
    } else {
      log.error({ err }, "agent endpoint error");
      fail(res, 500, { reason: "InternalError", message: "internal error" });
    }
  });
  return app;
}

export interface StartAgentEndpointOptions extends AgentEndpointOptions {
  /** `host:port`; port 0 picks a free one. */
  listen: string;
}

export interface RunningAgentEndpoint {
  /** Base URL agents use, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(":");
  const host = listen.slice(0, i).replace(/^\[(.*)\]$/, "$1");
  const port = Number(listen.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw Object.assign(new Error(`agent.listen ${JSON.stringify(listen)} must be host:port`), { reason: "InvalidListen" });
  }
  return { host, port };
}

export async function startAgentEndpoint(opts: StartAgentEndpointOptions): Promise<RunningAgentEndpoint> {
  const { host, port } = parseListen(opts.listen);
  const app = createAgentEndpoint(opts);
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once("error", reject);
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  (opts.logger ?? pino({ level: "silent" })).info({ host, port: bound }, "agent endpoint listening");
  return {
    url: `http://${urlHost}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Agents hold keep-alive connections; without this close() waits for them to idle out.
        server.closeAllConnections();
      }),
  };
}
