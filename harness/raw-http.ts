// A raw HTTP client for the harnesses: sends the path exactly as written (no `..`
// normalisation, no re-encoding) and gives up after a timeout instead of waiting forever.
import { request } from "node:http";

export interface RawResult {
  /** 0 when the request never got an answer. */
  status: number;
  text: string;
  timedOut: boolean;
  error?: string;
}

export function rawRequest(baseUrl: string, token: string, method: string, path: string, body: string | Buffer | undefined, contentType: string | undefined, timeoutMs: number): Promise<RawResult> {
  const url = new URL(baseUrl);
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (body !== undefined) {
    headers["Content-Type"] = contentType ?? "application/json";
    headers["Content-Length"] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: RawResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    let req: ReturnType<typeof request>;
    try {
      req = request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => done({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), timedOut: false }));
        res.on("error", (e) => done({ status: res.statusCode ?? 0, text: "", timedOut: false, error: e.message }));
      });
    } catch (e) {
      // Node refuses to send some paths at all (unescaped characters): nothing reached the server.
      return resolve({ status: 0, text: "", timedOut: false, error: `not sent: ${(e as Error).message}` });
    }
    const timer = setTimeout(() => {
      req.destroy();
      done({ status: 0, text: "", timedOut: true });
    }, timeoutMs);
    // The server may answer (413) and close before the whole body is written: its answer counts.
    req.on("error", (e) => setTimeout(() => done({ status: 0, text: "", timedOut: false, error: e.message }), 50));
    if (body !== undefined) req.write(body);
    req.end();
  });
}
