// zlh-agent entry point (bundled to dist/agent/zlh-agent.mjs by `npm run build`), started by the workload
// provider with the ZLH_* environment (see agent-env.ts).
import { readFileSync } from "node:fs";
import { pino } from "pino";
import { Agent } from "./agent.js";
import { AgentEnvError, readAgentEnv, type AgentEnv } from "./agent-env.js";
import { realClock } from "./clock.js";
import { ControllerClient } from "./controller-client.js";
import { ProcessLauncher } from "./process-launcher.js";
import { tcpProbe } from "./tcp-probe.js";
import { AGENT_VERSION } from "./version.js";
import { readWorkloadIdentity, WorkloadIdentityError, type WorkloadIdentity } from "./workload-identity.js";

function fatal(message: string): never {
  process.stderr.write(`zlh-agent: ${message}\n`);
  process.exit(2);
}

function readToken(file: string): string {
  let token: string;
  try {
    token = readFileSync(file, "utf8").trim();
  } catch (e) {
    fatal(`ZLH_TOKEN_FILE ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (token === "") fatal(`ZLH_TOKEN_FILE ${file} is empty`);
  return token;
}

let env: AgentEnv;
try {
  env = readAgentEnv(process.env);
} catch (e) {
  if (e instanceof AgentEnvError) fatal(e.message);
  throw e;
}
const token = readToken(env.tokenFile);
let identity: WorkloadIdentity;
try {
  identity = readWorkloadIdentity(process.env);
} catch (e) {
  if (e instanceof WorkloadIdentityError) fatal(e.message);
  throw e;
}

const resource = `${env.resource.plural}/${env.resource.namespace}/${env.resource.name}`;
// Synchronous stderr: the last lines before process.exit must not be lost in a buffer.
const logger = pino(
  {
    base: { resource },
    level: process.env.ZLH_LOG_LEVEL ?? "info",
    redact: { paths: ["token", "*.token", "authorization", "*.authorization"], censor: "[redacted]" },
  },
  pino.destination({ dest: 2, sync: true }),
);

const agent = new Agent({
  env,
  api: new ControllerClient(env.controllerUrl, env.resource, token),
  clock: realClock,
  logger,
  launcher: new ProcessLauncher(realClock, identity),
  probe: tcpProbe,
  inherited: process.env,
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    logger.info({ signal }, "signal received");
    void agent.stop().then(() => process.exit(0));
  });
}
process.on("uncaughtException", (err) => {
  // The server runs in its own session and survives; the next agent reattaches to it.
  logger.fatal({ err }, "agent crashed");
  process.exit(1);
});

logger.info({ version: AGENT_VERSION, ip: env.ip, hostname: env.hostname, vmid: env.vmid, controller: env.controllerUrl }, "agent starting");
void agent.run();
