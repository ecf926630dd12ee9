// One HTTP exchange with a remote API, for the providers that speak HTTP (Proxmox, Technitium,
// Cloudflare). It turns "could not talk to the server" into a TransientError that names the
// service, method and path — never the query string or headers, which may carry credentials —
// and leaves reading the service's own envelope to each provider.
import { fetch, type Dispatcher } from "undici";
import { TransientError } from "./retry.js";

export interface HttpRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: URL;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpReply {
  status: number;
  /** The reason phrase: Proxmox puts its error text there. */
  statusText: string;
  headers: Headers;
  text: string;
}

export interface HttpTransport {
  /** "Proxmox", "Technitium", …: how messages name the backend. */
  service: string;
  dispatcher?: Dispatcher;
  timeoutMs: number;
}

/** `GET /api2/json/nodes/pve1/lxc`: how messages name a request (no query, no credentials). */
export function describeRequest(req: Pick<HttpRequest, "method" | "url">): string {
  return `${req.method} ${req.url.pathname}`;
}

function networkCode(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.code) return cause.code;
  if ((err as { name?: string }).name === "TimeoutError") return "timed out";
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}

export async function sendHttp(t: HttpTransport, req: HttpRequest): Promise<HttpReply> {
  let res;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      dispatcher: t.dispatcher,
      signal: AbortSignal.timeout(t.timeoutMs),
      redirect: "manual",
    });
  } catch (err) {
    throw new TransientError(`${t.service} ${describeRequest(req)}: cannot reach ${req.url.host}: ${networkCode(err)}`, undefined, { cause: err });
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new TransientError(`${t.service} ${describeRequest(req)}: reply cut off: ${networkCode(err)}`, undefined, { cause: err });
  }
  return { status: res.status, statusText: res.statusText, headers: res.headers, text };
}

/** Parses a JSON body, or undefined when it is not JSON (a proxy's HTML error page, say). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
