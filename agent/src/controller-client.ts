// The agent's side of the agent protocol (the controller's side is
// controller/src/agent-endpoint/; the two share only the schemas):
//   GET  /agent/v1/<plural>/<ns>/<name>/spec   -> AgentSpec
//   POST /agent/v1/<plural>/<ns>/<name>/report  AgentReport -> { generation }
import type { Logger } from "pino";
import type { AgentReport, AllocatedPort, DevEnvironmentSpec, GameServerSpec } from "../../schemas/generated/types.js";
import { validateDocument } from "../../schemas/validate.js";
import { sleep, type Clock } from "./clock.js";

interface SpecMeta {
  apiVersion: string;
  metadata: { name: string; namespace: string; uid: string; generation: number };
  ports: AllocatedPort[];
  heartbeatSeconds: number;
  /** What the controller resolved from its artifact catalog for this spec (runtime-step.ts checks it). */
  artifacts?: { runtime?: unknown; runtimeError?: string };
}
export type AgentSpec =
  | (SpecMeta & { kind: "GameServer"; spec: GameServerSpec })
  | (SpecMeta & { kind: "DevEnvironment"; spec: DevEnvironmentSpec });

export type ControllerErrorReason = "Unreachable" | "Unauthorized" | "Forbidden" | "NotFound" | "Invalid" | "HttpError";

export class ControllerError extends Error {
  constructor(readonly reason: ControllerErrorReason, message: string) {
    super(message);
    this.name = "ControllerError";
  }
}

export interface ControllerApi {
  fetchSpec(): Promise<AgentSpec>;
  /** Returns the resource's current generation, so the agent knows when to refetch. */
  postReport(report: AgentReport): Promise<{ generation: number }>;
}

const REQUEST_TIMEOUT_MS = 10_000;

const REASONS: Record<number, ControllerErrorReason> = { 400: "Invalid", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound" };

export class ControllerClient implements ControllerApi {
  private readonly base: string;

  constructor(controllerUrl: string, resource: { plural: string; namespace: string; name: string }, private readonly token: string) {
    this.base = `${controllerUrl}/agent/v1/${resource.plural}/${resource.namespace}/${resource.name}`;
  }

  async fetchSpec(): Promise<AgentSpec> {
    const body = (await this.request("GET", "/spec")) as AgentSpec;
    const doc = { apiVersion: body.apiVersion, kind: body.kind, metadata: body.metadata, spec: body.spec };
    const errors = body.kind === "GameServer" || body.kind === "DevEnvironment" ? validateDocument(body.kind, doc) : [{ path: ".kind", message: "is not GameServer or DevEnvironment" }];
    if (errors.length > 0) {
      throw new ControllerError("Invalid", `spec from controller is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
    }
    if (!Number.isInteger(body.heartbeatSeconds) || body.heartbeatSeconds < 1) {
      throw new ControllerError("Invalid", `spec from controller is invalid: .heartbeatSeconds must be a positive integer`);
    }
    return { ...body, ports: Array.isArray(body.ports) ? body.ports : [] };
  }

  async postReport(report: AgentReport): Promise<{ generation: number }> {
    const body = (await this.request("POST", "/report", report)) as { generation?: unknown };
    return { generation: typeof body.generation === "number" ? body.generation : 0 };
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
      throw new ControllerError("Unreachable", `${method} ${path}: controller unreachable (${cause})`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch {
      parsed = {};
    }
    if (!res.ok) {
      const message = (parsed as { message?: string }).message ?? res.statusText;
      throw new ControllerError(REASONS[res.status] ?? "HttpError", `${method} ${path}: ${res.status} ${message}`);
    }
    return parsed;
  }
}

export interface RetryOptions {
  clock: Clock;
  logger: Logger;
  signal?: AbortSignal;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Fetches the spec until it succeeds, doubling the wait up to a ceiling. Every failure is
 * retried: an unreachable controller comes back, and a 404 or 403 can be an informer cache
 * that has not caught up yet. Resolves undefined only when `signal` aborts.
 */
export async function fetchSpecWithRetry(api: ControllerApi, opts: RetryOptions): Promise<AgentSpec | undefined> {
  let delay = opts.initialDelayMs ?? 1000;
  const max = opts.maxDelayMs ?? 30_000;
  for (let attempt = 1; !opts.signal?.aborted; attempt++) {
    try {
      return await api.fetchSpec();
    } catch (e) {
      const err = e as ControllerError;
      opts.logger.warn({ reason: err.reason ?? "Error", err: err.message, attempt, retryInMs: delay }, "spec fetch failed");
    }
    await sleep(opts.clock, delay, opts.signal);
    delay = Math.min(delay * 2, max);
  }
  return undefined;
}
