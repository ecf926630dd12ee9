// `zlh server`: the embedded API server, the controller and the providers chosen by the
// config, in one process. The controller still talks to the API over HTTP through
// client-node, exactly as it would to a Kubernetes cluster.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { pino, type Logger } from "pino";
import { loadOrCreateAgentSecret } from "./agent-endpoint/agent-token.js";
import { startApiServer } from "./api/server.js";
import { loadConfig, type ResolvedConfig, type ResolvedProvider } from "./config.js";
import { tightenDataDir } from "./data-dir-permissions.js";
import { startController } from "./manager.js";
import { acquireServerLock } from "./server-lock.js";
import { dnsProviders, routingProviders, workloadProviders } from "./provider-registry.js";
import type { ProviderEnv, RegisteredProvider } from "./providers/provider-config.js";
import type { Providers } from "./resources/reconciler.js";

export interface ServerOptions {
  dataDir: string;
  listen: string;
  configPath?: string;
  logLevel?: string;
  logger?: Logger;
}

export interface RunningServer {
  url: string;
  /** What kubectl and the CLI use (the kubeconfig's current context): the URL to print. */
  httpsUrl: string;
  /** The controller's endpoint: agents, /healthz, /readyz, /metrics. */
  controllerUrl: string;
  kubeconfigPath: string;
  close(): Promise<void>;
}

/** Makes each configured provider through the entry its `type` names (provider-registry.ts). */
export function buildProviders(c: ResolvedConfig, logger: Logger): Providers {
  const env: ProviderEnv = { logger, dataDir: c.dataDir, zone: c.settings.zone };
  const make = <P>(registry: Record<string, RegisteredProvider<P>>, p: ResolvedProvider): P => registry[p.type]!.make(p.resolved, env);
  return {
    workload: make(workloadProviders, c.workload),
    dns: c.dns.map((d) => ({ target: d.target, provider: make(dnsProviders, d) })),
    routing: make(routingProviders, c.routing),
  };
}

type ControllerOptionsWithoutListen = Omit<Parameters<typeof startController>[0], "agentListen">;

/**
 * Agents outlive the server and keep the endpoint URL they were started with, so a
 * restarted server binds the same agent port again when the config leaves it to chance.
 */
async function startControllerReusingAgentPort(dataDir: string, config: ResolvedConfig, logger: Logger, o: ControllerOptionsWithoutListen) {
  const record = join(dataDir, "agent-endpoint.json");
  let previous: string | undefined;
  try {
    previous = (JSON.parse(readFileSync(record, "utf8")) as { listen?: string }).listen;
  } catch {
    // first start
  }
  const wanted = config.agent.listen.endsWith(":0") && previous ? previous : config.agent.listen;
  let controller;
  try {
    controller = await startController({ ...o, agentListen: wanted });
  } catch (err) {
    if (wanted === config.agent.listen || (err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    logger.warn({ listen: wanted }, "previous agent port is taken; running agents reconnect only after their workloads restart");
    controller = await startController({ ...o, agentListen: config.agent.listen });
  }
  writeFileSync(record, JSON.stringify({ listen: new URL(controller.agentUrl).host }) + "\n");
  return controller;
}

export async function runServer(opts: ServerOptions): Promise<RunningServer> {
  const dataDir = resolve(opts.dataDir);
  // A first start that fails (a busy port, a bad config) must not leave a half-made data
  // directory behind: the next start would take its leftovers for a server's state.
  const fresh = !existsSync(dataDir);
  try {
    return await startIn(dataDir, opts);
  } catch (err) {
    if (fresh) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function startIn(dataDir: string, opts: ServerOptions): Promise<RunningServer> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logger = opts.logger ?? pino({ level: opts.logLevel ?? "info", redact: ["token", "*.token", "authorization", "*.authorization"] });
  tightenDataDir(dataDir, logger);
  const config = loadConfig(opts.configPath, dataDir);
  // Before the lock and the API: a provider that cannot be made is a config error, and
  // making one opens nothing (connections are opened on first use).
  const providers = buildProviders(config, logger);
  const unlock = acquireServerLock(dataDir);
  let api;
  try {
    api = await startApiServer({ dataDir, listen: opts.listen, logger: logger.child({ component: "api" }) });
  } catch (err) {
    unlock();
    throw err;
  }
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  // In-process loopback: plain HTTP is ~3x the write throughput of the TLS context kubectl needs.
  kc.setCurrentContext("zlh-http");
  try {
    const controller = await startControllerReusingAgentPort(dataDir, config, logger, {
      kubeConfig: kc,
      providers,
      settings: config.settings,
      workers: config.workers,
      vmids: config.vmids,
      publicPorts: config.publicPorts,
      heartbeatSeconds: config.agent.heartbeatSeconds,
      missedHeartbeats: config.agent.missedHeartbeats,
      agentSecret: loadOrCreateAgentSecret(join(dataDir, "agent.secret")),
      // The data-directory lock makes this server the only one here, so its identity can
      // stay the same across restarts: after a crash it resumes its own Lease at once
      // instead of waiting for it to expire.
      identity: `zlh-server-${osHostname()}-${createHash("sha256").update(dataDir).digest("hex").slice(0, 10)}`,
      logger: logger.child({ component: "controller" }),
    });
    return {
      url: api.url,
      httpsUrl: api.httpsUrl,
      controllerUrl: controller.agentUrl,
      kubeconfigPath: api.kubeconfigPath,
      async close() {
        await controller.close();
        await api.close();
        unlock();
      },
    };
  } catch (err) {
    await api.close();
    unlock();
    throw err;
  }
}
