// The HTTP server under every contract fake: listens on 127.0.0.1 port 0 (HTTP or HTTPS),
// records every request in full (so tests can assert "no zone listing", "one clone", "the
// token never reached this server") and hands it to the fake's handler.
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path without the query string, percent-decoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** Form fields (urlencoded body) merged over the query, as the fakes' APIs read them. */
  params: URLSearchParams;
  /** Everything that came over the wire, for "never sent" assertions. */
  raw: string;
}

export interface FakeReply {
  status: number;
  /** HTTP reason phrase (Proxmox puts its error message here). */
  statusText?: string;
  headers?: Record<string, string>;
  /** Serialized as JSON. */
  body?: unknown;
}

export interface RecordingServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface RecordingServerOptions {
  tls?: { key: string; cert: string };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function record(req: IncomingMessage, body: string): RecordedRequest {
  const url = new URL(req.url ?? "/", "http://fake");
  const params = new URLSearchParams(url.searchParams);
  if ((req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
    for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
  }
  const headerText = Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join("\n");
  return {
    method: req.method ?? "GET",
    path: decodeURIComponent(url.pathname),
    query: url.searchParams,
    headers: req.headers,
    body,
    params,
    raw: `${req.method} ${req.url}\n${headerText}\n\n${body}`,
  };
}

export async function startRecordingServer(
  handler: (req: RecordedRequest) => FakeReply | Promise<FakeReply>,
  options: RecordingServerOptions = {},
): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const recorded = record(req, await readBody(req));
    requests.push(recorded);
    let reply: FakeReply;
    try {
      reply = await handler(recorded);
    } catch (err) {
      reply = { status: 500, statusText: "fake crashed", body: { error: String(err) } };
    }
    const text = reply.body === undefined ? "" : JSON.stringify(reply.body);
    res.writeHead(reply.status, reply.statusText ?? "", { "content-type": "application/json", ...reply.headers });
    res.end(text);
  };
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    serve(req, res).catch(() => res.destroy());
  };
  const server = options.tls ? createHttpsServer(options.tls, listener) : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
