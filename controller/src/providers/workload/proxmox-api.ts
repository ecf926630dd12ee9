// The Proxmox VE REST API as the proxmox workload provider uses it (APIS.md §c): the
// `PVEAPIToken=` header, form-urlencoded bodies, `{data: …}` envelopes, errors in the HTTP
// status line, and async calls that return a UPID polled on the injected clock until the
// task stops. Errors are classified here once: lock timeouts, 5xx/595/596 and connection
// failures are retried; a refused token, a missing permission or a bad parameter is not.
import type { Logger } from "pino";
import { Agent } from "undici";
import type { Clock } from "../../engine/clock.js";
import { describeRequest, parseJson, sendHttp, type HttpTransport } from "../http-call.js";
import { ProviderError } from "../provider-error.js";
import { TransientError, withRetries, type RetryPolicy } from "../retry.js";

export interface ProxmoxTls {
  /** PEM of the CA that signed the API certificate (pinned: the system store is not used). */
  ca?: string;
  /** Accept any certificate; the config loader logs a warning. */
  insecureSkipTLSVerify?: boolean;
}

export interface ProxmoxApiOptions {
  url: string;
  tokenId: string;
  secret: () => string;
  tls: ProxmoxTls;
  clock: Clock;
  policy: RetryPolicy;
  random?: () => number;
  timeoutMs?: number;
  /** The longest a task may run before we give up waiting (on `clock`). */
  taskTimeoutMs?: number;
  logger?: Logger;
}

export type Params = Record<string, string | number | boolean | undefined>;

/** Proxmox answered with an error: `status` and its own message (the HTTP reason phrase). */
export class ProxmoxApiError extends ProviderError {
  constructor(
    reason: ProviderError["reason"],
    readonly status: number,
    readonly serverMessage: string,
    message: string,
  ) {
    super(reason, message);
  }
}

/** Lock contention right after a clone or config change: worth another try (APIS.md §c). */
const LOCKED = /can't lock file|got timeout|is locked|locked \(/i;

function serverMessageOf(status: number, statusText: string, body: unknown): string {
  const b = body as { message?: unknown; errors?: Record<string, unknown> } | undefined;
  const params = b?.errors && typeof b.errors === "object" ? Object.entries(b.errors).map(([k, v]) => `${k}: ${String(v).trim()}`) : [];
  const text = typeof b?.message === "string" && b.message.trim() ? b.message.trim() : statusText.trim() || `HTTP ${status}`;
  return params.length ? `${text} (${params.join("; ")})` : text;
}

export class ProxmoxApi {
  private readonly base: string;
  private readonly transport: HttpTransport;
  private readonly taskTimeoutMs: number;

  constructor(private readonly o: ProxmoxApiOptions) {
    this.base = `${o.url.replace(/\/+$/, "").replace(/\/api2\/json$/, "")}/api2/json`;
    const connect = o.tls.insecureSkipTLSVerify ? { rejectUnauthorized: false } : o.tls.ca ? { ca: o.tls.ca } : {};
    this.transport = { service: "Proxmox", timeoutMs: o.timeoutMs ?? 30_000, dispatcher: new Agent({ connect }) };
    this.taskTimeoutMs = o.taskTimeoutMs ?? 600_000;
  }

  get<T>(op: string, path: string, params: Params = {}): Promise<T> {
    return this.call<T>(op, "GET", path, params);
  }

  post<T>(op: string, path: string, params: Params = {}): Promise<T> {
    return this.call<T>(op, "POST", path, params);
  }

  put<T>(op: string, path: string, params: Params = {}): Promise<T> {
    return this.call<T>(op, "PUT", path, params);
  }

  delete<T>(op: string, path: string, params: Params = {}): Promise<T> {
    return this.call<T>(op, "DELETE", path, params);
  }

  /** Runs an async call and waits for its task; a task ending other than OK/WARNINGS throws. */
  async task(op: string, method: "POST" | "DELETE" | "PUT", path: string, params: Params = {}): Promise<void> {
    // A retried POST whose first try started a task would start a second one; Proxmox refuses
    // the second (locked / already running), which the callers treat as "look again".
    const upid = await this.call<unknown>(op, method, path, params);
    if (typeof upid !== "string" || !upid.startsWith("UPID:")) return; // synchronous on this version
    await this.waitTask(op, upid);
  }

  async waitTask(op: string, upid: string): Promise<void> {
    const node = upid.split(":")[1] ?? "";
    const started = this.o.clock.now();
    for (let poll = 1; ; poll++) {
      const s = await this.get<{ status?: string; exitstatus?: string }>(`${op} (task status)`, `/nodes/${encodeURIComponent(node)}/tasks/${encodeURIComponent(upid)}/status`);
      if (s.status === "stopped") {
        const exit = s.exitstatus ?? "";
        if (exit === "OK" || /^WARNINGS: \d+$/.test(exit)) return;
        throw new ProxmoxApiError("Unavailable", 500, exit, `Proxmox ${op}: task ${upid} failed: ${exit}${await this.logTail(node, upid)}`);
      }
      if (this.o.clock.now() - started >= this.taskTimeoutMs) {
        throw new ProviderError("Unavailable", `Proxmox ${op}: task ${upid} still running after ${Math.round(this.taskTimeoutMs / 1000)} s`);
      }
      await this.o.clock.sleep(Math.min(2_000, 200 * poll));
    }
  }

  private async logTail(node: string, upid: string): Promise<string> {
    try {
      const lines = await this.get<{ n: number; t: string }[]>("task log", `/nodes/${encodeURIComponent(node)}/tasks/${encodeURIComponent(upid)}/log`, { start: 0, limit: 500 });
      const tail = (Array.isArray(lines) ? lines : []).map((l) => l.t).filter((t) => t && t !== "no content").slice(-5);
      return tail.length ? `; last log lines: ${tail.join(" | ")}` : "";
    } catch {
      return "";
    }
  }

  private async call<T>(op: string, method: "GET" | "POST" | "PUT" | "DELETE", path: string, params: Params): Promise<T> {
    const url = new URL(this.base + path);
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) form.append(k, typeof v === "boolean" ? (v ? "1" : "0") : String(v));
    // Proxmox reads GET and DELETE parameters from the query, the others from the body.
    const inQuery = method === "GET" || method === "DELETE";
    if (inQuery) url.search = form.toString();
    const ctx = {
      clock: this.o.clock,
      policy: this.o.policy,
      random: this.o.random,
      onFailure: (err: ProviderError, attempt: number, willRetry: boolean) =>
        this.o.logger?.warn({ provider: "workload/proxmox", op, request: describeRequest({ method, url }), attempt, willRetry, reason: err.reason, err: err.message }, "provider call failed"),
    };
    return withRetries(ctx, async () => {
      const reply = await sendHttp(this.transport, {
        method,
        url,
        headers: {
          authorization: `PVEAPIToken=${this.o.tokenId}=${this.o.secret()}`,
          ...(inQuery ? {} : { "content-type": "application/x-www-form-urlencoded" }),
        },
        ...(inQuery ? {} : { body: form.toString() }),
      });
      const body = parseJson(reply.text) as { data?: unknown } | undefined;
      if (reply.status === 200) {
        if (!body || typeof body !== "object" || !("data" in body)) throw new ProviderError("Unavailable", `Proxmox ${op}: ${describeRequest({ method, url })}: not a Proxmox API reply`);
        return body.data as T;
      }
      throw this.failure(op, method, url, reply.status, serverMessageOf(reply.status, reply.statusText, body));
    });
  }

  private failure(op: string, method: string, url: URL, status: number, server: string): ProviderError {
    const what = `Proxmox ${op}: ${method} ${url.pathname}: HTTP ${status} ${server}`;
    if (status === 401) return new ProxmoxApiError("Unavailable", status, server, `${what}; the API token ${this.o.tokenId} was refused (check tokenId and tokenSecretFile)`);
    if (status === 403) return new ProxmoxApiError("Unavailable", status, server, `${what}; the token lacks a permission (see docs/production.md)`);
    if (status === 400) return new ProxmoxApiError("Invalid", status, server, what);
    if (LOCKED.test(server) || status === 502 || status === 503 || status === 504 || status === 595 || status === 596) return new TransientError(what);
    if (/already exists/i.test(server)) return new ProxmoxApiError("Conflict", status, server, what);
    if (/does not exist|no such/i.test(server)) return new ProxmoxApiError("NotFound", status, server, what);
    return new ProxmoxApiError("Unavailable", status, server, what);
  }
}
