// A contract fake of Cloudflare API v4 DNS records (APIS.md §b): list with exact/prefix
// filters and page/per_page paging with result_info (capped per page like the real API),
// create/patch/put/delete, the {success, errors[], messages[], result} envelope, the error
// codes clients meet (81057/81058 duplicates, 81053/81054 CNAME clashes, 81044 stale id),
// proxied records whose TTL reads back as 1 (automatic), and rate limits: HTTP 429 with
// Retry-After once a budget is spent.
import { randomBytes } from "node:crypto";
import { startRecordingServer, type FakeReply, type RecordedRequest, type RecordingServer } from "./recording-server.js";

export interface CloudflareRecord {
  id: string;
  zone_id: string;
  zone_name: string;
  name: string;
  type: string;
  content: string;
  data?: { priority: number; weight: number; port: number; target: string };
  priority?: number;
  proxiable: boolean;
  proxied: boolean;
  ttl: number;
  comment: string | null;
  tags: string[];
  settings: Record<string, unknown>;
  meta: Record<string, unknown>;
  created_on: string;
  modified_on: string;
}

export interface CloudflareFakeOptions {
  zoneId: string;
  zone: string;
  token?: string;
  /** The largest per_page honoured (the real API caps it too); default 100. */
  maxPerPage?: number;
  /** Longest comment accepted (plan-dependent on the real API); default 100. */
  maxCommentLength?: number;
}

export interface CloudflareFake {
  url: string;
  token: string;
  /** From now on only this token is accepted (a rotated token). */
  setToken(token: string): void;
  requests: RecordedRequest[];
  writes(): number;
  records(): CloudflareRecord[];
  seed(r: { name: string; type: string; content: string; ttl: number; comment?: string; proxied?: boolean; data?: CloudflareRecord["data"]; tags?: string[] }): CloudflareRecord;
  /** After `after` more requests, the next `count` answer 429 with Retry-After: `retryAfterSeconds`. */
  rateLimit(o: { after: number; count: number; retryAfterSeconds: number }): void;
  failNextHttp(n: number, status: number): void;
  /** Runs `fn` just before the next request whose method and path match (a concurrent edit). */
  tamperBefore(method: string, pathPattern: RegExp, fn: () => void): void;
  remove(id: string): void;
  close(): Promise<void>;
}

const PROXIABLE = new Set(["A", "AAAA", "CNAME"]);
const TYPES = new Set(["A", "AAAA", "CNAME", "TXT", "SRV", "MX", "NS", "CAA"]);

class CfError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const envelope = (result: unknown, extra: Record<string, unknown> = {}): FakeReply => ({ status: 200, body: { success: true, errors: [], messages: [], result, ...extra } });
const failure = (status: number, code: number, message: string, headers?: Record<string, string>): FakeReply => ({
  status,
  headers,
  body: { success: false, errors: [{ code, message }], messages: [], result: null },
});

function matchesFilter(value: string, p: URLSearchParams, field: string): boolean {
  const v = value.toLowerCase();
  const exact = p.get(`${field}.exact`) ?? (field === "comment" ? null : p.get(field));
  if (exact !== null && v !== exact.toLowerCase().replace(/\.$/, "")) return false;
  const starts = p.get(`${field}.startswith`);
  if (starts !== null && !v.startsWith(starts.toLowerCase())) return false;
  const ends = p.get(`${field}.endswith`);
  if (ends !== null && !v.endsWith(ends.toLowerCase())) return false;
  const contains = p.get(`${field}.contains`);
  if (contains !== null && !v.includes(contains.toLowerCase())) return false;
  return true;
}

export async function startCloudflareFake(o: CloudflareFakeOptions): Promise<CloudflareFake> {
  let token = o.token ?? "cf-test-token-5e0b";
  const maxPerPage = o.maxPerPage ?? 100;
  const maxComment = o.maxCommentLength ?? 100;
  let records: CloudflareRecord[] = [];
  let writes = 0;
  let tick = 0;
  let limit: { after: number; count: number; retryAfterSeconds: number } | undefined;
  let httpFailures: { n: number; status: number } | undefined;
  const tampers: { method: string; path: RegExp; fn: () => void }[] = [];
  const stamp = () => new Date(Date.UTC(2026, 0, 1) + ++tick * 1000).toISOString();
  const base = `/client/v4/zones/${o.zoneId}/dns_records`;

  /** Checks and normalizes a record body as the API does; throws CfError. */
  function build(body: Record<string, unknown>, existing?: CloudflareRecord): CloudflareRecord {
    const merged = { ...(existing ?? {}), ...body } as Record<string, unknown>;
    const type = String(merged.type ?? "");
    if (!TYPES.has(type)) throw new CfError(400, 9000, "DNS record type is invalid.");
    const name = String(merged.name ?? "").toLowerCase().replace(/\.$/, "");
    if (name !== o.zone && !name.endsWith(`.${o.zone}`)) throw new CfError(400, 9007, "Content for DNS record name is invalid: not in the zone.");
    const ttl = Number(merged.ttl ?? 1);
    if (!(ttl === 1 || (Number.isInteger(ttl) && ttl >= 60 && ttl <= 86400))) throw new CfError(400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.");
    const proxied = merged.proxied === true;
    if (proxied && !PROXIABLE.has(type)) throw new CfError(400, 9004, "This record type cannot be proxied.");
    const comment = merged.comment === undefined || merged.comment === null || merged.comment === "" ? null : String(merged.comment);
    if (comment !== null && /[\r\n]/.test(comment)) throw new CfError(400, 9100, "DNS record comment cannot contain line breaks.");
    if (comment !== null && comment.length > maxComment) throw new CfError(400, 9101, `DNS record comment cannot be longer than ${maxComment} characters.`);
    let content = String(merged.content ?? "");
    let data: CloudflareRecord["data"];
    if (type === "SRV") {
      const d = (body.data ?? existing?.data) as CloudflareRecord["data"] | undefined;
      if (!d || ![d.priority, d.weight, d.port].every((n) => Number.isInteger(n)) || typeof d.target !== "string") {
        throw new CfError(400, 9101, "SRV records need data.priority, data.weight, data.port and data.target.");
      }
      if (!/^_[a-z0-9-]+\._(tcp|udp|tls)\./.test(name)) throw new CfError(400, 9102, "SRV record name must start with _service._proto.");
      data = { priority: d.priority, weight: d.weight, port: d.port, target: d.target.toLowerCase().replace(/\.$/, "") };
      content = `${data.priority} ${data.weight} ${data.port} ${data.target}`;
    } else if (content === "") {
      throw new CfError(400, 9005, "Content for DNS record is invalid.");
    }
    if (type === "A" && !/^\d{1,3}(\.\d{1,3}){3}$/.test(content)) throw new CfError(400, 9005, "Content for A record must be a valid IPv4 address.");
    const now = stamp();
    return {
      id: existing?.id ?? randomBytes(16).toString("hex"),
      zone_id: o.zoneId,
      zone_name: o.zone,
      name,
      type,
      content: type === "CNAME" ? content.toLowerCase().replace(/\.$/, "") : content,
      ...(data ? { data, priority: data.priority } : {}),
      proxiable: PROXIABLE.has(type),
      proxied,
      // Proxied records have an automatic TTL whatever was asked for.
      ttl: proxied ? 1 : ttl,
      comment,
      tags: Array.isArray(merged.tags) ? (merged.tags as string[]) : [],
      settings: {},
      meta: {},
      created_on: existing?.created_on ?? now,
      modified_on: now,
    };
  }

  function checkClashes(r: CloudflareRecord, skipId?: string): void {
    const others = records.filter((x) => x.id !== skipId && x.name === r.name);
    if (others.some((x) => x.type === r.type && x.content === r.content)) {
      const same = others.find((x) => x.type === r.type && x.content === r.content)!;
      if (same.ttl === r.ttl && same.proxied === r.proxied && same.comment === r.comment) throw new CfError(400, 81058, "An identical record already exists.");
      throw new CfError(400, 81057, "Record already exists.");
    }
    if (r.type === "CNAME" && others.length > 0) throw new CfError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.");
    if (r.type !== "CNAME" && others.some((x) => x.type === "CNAME")) throw new CfError(400, 81054, "A CNAME record with that host already exists.");
  }

  function list(p: URLSearchParams): FakeReply {
    const type = p.get("type");
    const matched = records.filter(
      (r) => (type === null || r.type === type) && matchesFilter(r.name, p, "name") && matchesFilter(r.content, p, "content") && matchesFilter(r.comment ?? "", p, "comment"),
    );
    const perPage = Math.min(Number(p.get("per_page") ?? 100), maxPerPage);
    const page = Number(p.get("page") ?? 1);
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1) throw new CfError(400, 1004, "Invalid page or per_page.");
    const slice = matched.slice((page - 1) * perPage, page * perPage);
    return envelope(structuredClone(slice), {
      result_info: { page, per_page: perPage, count: slice.length, total_count: matched.length, total_pages: Math.max(1, Math.ceil(matched.length / perPage)) },
    });
  }

  function handle(req: RecordedRequest): FakeReply {
    if (!req.path.startsWith(base)) return failure(400, 7003, `Could not route to ${req.path}, perhaps your object identifier is invalid?`);
    const id = req.path.slice(base.length).replace(/^\//, "");
    const body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
    if (id === "" && req.method === "GET") return list(req.query);
    if (id === "" && req.method === "POST") {
      const r = build(body);
      checkClashes(r);
      records.push(r);
      writes += 1;
      return envelope(structuredClone(r));
    }
    const at = records.findIndex((r) => r.id === id);
    if (at < 0) throw new CfError(404, 81044, "Record does not exist.");
    if (req.method === "GET") return envelope(structuredClone(records[at]!));
    if (req.method === "DELETE") {
      records.splice(at, 1);
      writes += 1;
      return envelope({ id });
    }
    if (req.method === "PATCH" || req.method === "PUT") {
      const r = build(body, req.method === "PATCH" ? records[at] : { ...records[at]!, comment: null, tags: [], proxied: false } as CloudflareRecord);
      checkClashes(r, id);
      records[at] = r;
      writes += 1;
      return envelope(structuredClone(r));
    }
    return failure(405, 10000, "Method not allowed");
  }

  const server: RecordingServer = await startRecordingServer((req) => {
    const t = tampers.findIndex((x) => x.method === req.method && x.path.test(req.path));
    if (t >= 0) tampers.splice(t, 1)[0]!.fn();
    if (limit) {
      if (limit.after > 0) limit.after -= 1;
      else if (limit.count > 0) {
        limit.count -= 1;
        return failure(429, 971, "Please wait and consider throttling your request speed", { "retry-after": String(limit.retryAfterSeconds) });
      }
    }
    if (httpFailures && httpFailures.n > 0) {
      httpFailures.n -= 1;
      return failure(httpFailures.status, 10000, "Internal Server Error");
    }
    if (req.headers.authorization !== `Bearer ${token}`) return failure(403, 10000, "Authentication error");
    try {
      return handle(req);
    } catch (err) {
      if (err instanceof CfError) return failure(err.status, err.code, err.message);
      if (err instanceof SyntaxError) return failure(400, 6007, "Malformed JSON in request body");
      throw err;
    }
  });

  return {
    url: `${server.url}/client/v4`,
    get token() {
      return token;
    },
    setToken: (t: string) => {
      token = t;
    },
    requests: server.requests,
    writes: () => writes,
    records: () => structuredClone(records),
    seed: (r) => {
      const built = build({ ...r, comment: r.comment ?? null });
      records.push(built);
      return structuredClone(built);
    },
    rateLimit: (l) => {
      limit = { ...l };
    },
    failNextHttp: (n, status) => {
      httpFailures = { n, status };
    },
    tamperBefore: (method, path, fn) => {
      tampers.push({ method, path, fn });
    },
    remove: (id) => {
      records = records.filter((r) => r.id !== id);
    },
    close: () => server.close(),
  };
}
