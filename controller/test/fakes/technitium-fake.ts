// A contract fake of the Technitium DNS Server HTTP API (../shared/reference APIS.md §a, from
// TechnitiumSoftware/DnsServer APIDOCS.md): /api/zones/records/{get,add,update,delete}, the
// Bearer token (or the older token= parameter), form-urlencoded or query parameters, and the
// awkward parts — errors are HTTP 200 with status "error", "invalid-token" for a bad token, a
// duplicate add fails, an update without ttl resets it to 3600, deleting a missing record is
// an error, and `listZone=true` returns the whole zone (recorded, so tests can forbid it).
import { startRecordingServer, type FakeReply, type RecordedRequest, type RecordingServer } from "./recording-server.js";

export interface TechnitiumRecord {
  name: string;
  type: string;
  ttl: number;
  rData: Record<string, unknown>;
  comments?: string;
  disabled: boolean;
  lastModified: string;
}

export interface TechnitiumFake {
  url: string;
  token: string;
  /** From now on only this token is accepted (a rotated token). */
  setToken(token: string): void;
  requests: RecordedRequest[];
  /** Mutations that changed a zone. */
  writes(): number;
  /** Every record of a zone, in stored order (deep copies). */
  records(zone: string): TechnitiumRecord[];
  /** Adds a record as the web console would (no zlh comment unless given). */
  seed(zone: string, r: { name: string; type: string; ttl: number; rData: Record<string, unknown>; comments?: string }): void;
  /** Every later call answers HTTP 200 status "error" with this message, until undefined. */
  setFailing(message: string | undefined): void;
  /** Runs `fn` just before the next request to `path` is handled (a concurrent edit). */
  tamperBefore(path: string, fn: () => void): void;
  /** Removes records matching `match` as the web console would (not counted as our write). */
  removeWhere(zone: string, match: (r: TechnitiumRecord) => boolean): void;
  /** The next `n` calls answer with this HTTP status (a proxy in front failing), then recover. */
  failNextHttp(n: number, status: number): void;
  close(): Promise<void>;
}

const ok = (response: unknown): FakeReply => ({ status: 200, body: { response, status: "ok" } });
const error = (errorMessage: string): FakeReply => ({
  status: 200,
  body: { status: "error", errorMessage, stackTrace: "   at DnsServerCore.WebServiceZonesApi (fake)", innerErrorMessage: null },
});

class ApiError extends Error {}

function need(p: URLSearchParams, name: string): string {
  const v = p.get(name);
  if (v === null || v === "") throw new ApiError(`Parameter '${name}' missing.`);
  return v;
}

const lower = (s: string): string => s.toLowerCase().replace(/\.$/, "");

/** The rData an add/update/delete names, read from `prefix`-ed parameters ("" or "new"). */
function rDataOf(type: string, p: URLSearchParams, prefix: "" | "new"): Record<string, unknown> {
  const key = (k: string) => (prefix ? `new${k[0]!.toUpperCase()}${k.slice(1)}` : k);
  const get = (k: string) => (prefix ? p.get(key(k)) ?? p.get(k) : need(p, k));
  switch (type) {
    case "A":
    case "AAAA":
      return { ipAddress: get("ipAddress") };
    case "CNAME":
      return { cname: lower(need(p, "cname")) };
    case "TXT": {
      const text = get("text") ?? "";
      return { text, splitText: false, characterStrings: [text] };
    }
    case "SRV":
      return {
        priority: Number(get("priority")),
        weight: Number(get("weight")),
        port: Number(get("port")),
        target: lower(get("target") ?? ""),
      };
    default:
      throw new ApiError(`Type not supported for this operation: ${type}`);
  }
}

function sameData(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  if ("text" in a) return a.text === b.text;
  return JSON.stringify(a) === JSON.stringify(b);
}

export async function startTechnitiumFake(options: { zones: string[]; token?: string }): Promise<TechnitiumFake> {
  let token = options.token ?? "technitium-test-token-7c1d";
  const zones = new Map<string, TechnitiumRecord[]>(options.zones.map((z) => [lower(z), []]));
  let writes = 0;
  let failing: string | undefined;
  let httpFailures: { n: number; status: number } | undefined;
  let tick = 0;
  const tampers: { path: string; fn: () => void }[] = [];
  const stamp = () => new Date(Date.UTC(2026, 0, 1) + ++tick * 1000).toISOString();

  const zoneFor = (domain: string, p: URLSearchParams): { name: string; records: TechnitiumRecord[] } => {
    const named = p.get("zone");
    const candidates = named ? [lower(named)] : [...zones.keys()].filter((z) => domain === z || domain.endsWith(`.${z}`));
    const name = candidates.sort((x, y) => y.length - x.length)[0];
    const records = name === undefined ? undefined : zones.get(name);
    if (name === undefined || !records) throw new ApiError(`No such zone was found: ${named ?? domain}`);
    if (domain !== name && !domain.endsWith(`.${name}`)) throw new ApiError(`The domain name '${domain}' is not a subdomain of zone '${name}'.`);
    return { name, records };
  };
  const zoneInfo = (name: string) => ({ name, type: "Primary", internal: false, dnssecStatus: "Unsigned", disabled: false });

  const get = (p: URLSearchParams): FakeReply => {
    const domain = lower(need(p, "domain"));
    const z = zoneFor(domain, p);
    const list = p.get("listZone") === "true" ? z.records : z.records.filter((r) => r.name === domain);
    return ok({ zone: zoneInfo(z.name), name: domain, records: list.map((r) => ({ ...structuredClone(r), ttlString: `${r.ttl}s`, dnssecStatus: "Unknown", lastUsedOn: "0001-01-01T00:00:00", expiryTtl: 0 })) });
  };

  const add = (p: URLSearchParams): FakeReply => {
    const domain = lower(need(p, "domain"));
    const type = need(p, "type").toUpperCase();
    const z = zoneFor(domain, p);
    const rData = rDataOf(type, p, "");
    const here = z.records.filter((r) => r.name === domain);
    if (type === "CNAME" && here.some((r) => r.type !== "CNAME")) throw new ApiError("Cannot add record: a CNAME record cannot be added to a name that has other records.");
    if (type !== "CNAME" && here.some((r) => r.type === "CNAME")) throw new ApiError("Cannot add record: a CNAME record exists at this name.");
    if (p.get("overwrite") === "true") {
      z.records.splice(0, z.records.length, ...z.records.filter((r) => !(r.name === domain && r.type === type)));
    } else if (here.some((r) => r.type === type && (type === "CNAME" || sameData(r.rData, rData)))) {
      throw new ApiError(type === "CNAME" ? "Record already exists. Use overwrite option if you wish to overwrite existing records." : "Cannot add record: record already exists.");
    }
    const record: TechnitiumRecord = { name: domain, type, ttl: Number(p.get("ttl") ?? 3600), rData, disabled: false, lastModified: stamp() };
    const comments = p.get("comments");
    if (comments) record.comments = comments;
    z.records.push(record);
    writes += 1;
    return ok({ zone: zoneInfo(z.name), addedRecord: structuredClone(record) });
  };

  const update = (p: URLSearchParams): FakeReply => {
    const domain = lower(need(p, "domain"));
    const type = need(p, "type").toUpperCase();
    const z = zoneFor(domain, p);
    const current = type === "CNAME" ? undefined : rDataOf(type, p, "");
    const at = z.records.findIndex((r) => r.name === domain && r.type === type && (current === undefined || sameData(r.rData, current)));
    if (at < 0) throw new ApiError("Cannot update record: no such record exists.");
    const old = z.records[at]!;
    const next: TechnitiumRecord = {
      ...old,
      name: p.get("newDomain") ? lower(p.get("newDomain")!) : old.name,
      rData: rDataOf(type, p, "new"),
      // Documented: leaving out ttl resets it to the default.
      ttl: Number(p.get("ttl") ?? 3600),
      lastModified: stamp(),
    };
    const comments = p.get("comments");
    if (comments !== null) {
      if (comments === "") delete next.comments;
      else next.comments = comments;
    }
    if (z.records.some((r, i) => i !== at && r.name === next.name && r.type === type && sameData(r.rData, next.rData))) {
      throw new ApiError("Cannot update record: record already exists.");
    }
    z.records[at] = next;
    writes += 1;
    return ok({ zone: zoneInfo(z.name), updatedRecord: structuredClone(next) });
  };

  const remove = (p: URLSearchParams): FakeReply => {
    const domain = lower(need(p, "domain"));
    const type = need(p, "type").toUpperCase();
    const z = zoneFor(domain, p);
    const target = type === "CNAME" ? undefined : rDataOf(type, p, "");
    const at = z.records.findIndex((r) => r.name === domain && r.type === type && (target === undefined || sameData(r.rData, target)));
    if (at < 0) throw new ApiError("Cannot delete record: no such record exists.");
    z.records.splice(at, 1);
    writes += 1;
    return ok({});
  };

  const routes: Record<string, (p: URLSearchParams) => FakeReply> = {
    "/api/zones/records/get": get,
    "/api/zones/records/add": add,
    "/api/zones/records/update": update,
    "/api/zones/records/delete": remove,
    "/api/zones/list": () => ok({ pageNumber: 1, totalPages: 1, totalZones: zones.size, zones: [...zones.keys()].map(zoneInfo) }),
  };

  const server: RecordingServer = await startRecordingServer((req) => {
    const tamper = tampers.findIndex((t) => t.path === req.path);
    if (tamper >= 0) tampers.splice(tamper, 1)[0]!.fn();
    if (httpFailures && httpFailures.n > 0) {
      httpFailures.n -= 1;
      return { status: httpFailures.status, statusText: "Bad Gateway", body: "<html>bad gateway</html>" };
    }
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
    if ((bearer ?? req.params.get("token")) !== token) {
      return { status: 200, body: { status: "invalid-token", errorMessage: "Invalid token or session expired." } };
    }
    if (failing) return error(failing);
    const route = routes[req.path];
    if (!route) return { status: 404, body: { status: "error", errorMessage: `No such API: ${req.path}` } };
    try {
      return route(req.params);
    } catch (err) {
      if (err instanceof ApiError) return error(err.message);
      throw err;
    }
  });

  return {
    url: server.url,
    get token() {
      return token;
    },
    setToken: (t: string) => {
      token = t;
    },
    requests: server.requests,
    writes: () => writes,
    records: (zone) => structuredClone(zones.get(lower(zone)) ?? []),
    seed: (zone, r) => {
      const list = zones.get(lower(zone));
      if (!list) throw new Error(`no zone ${zone}`);
      list.push({ name: lower(r.name), type: r.type, ttl: r.ttl, rData: structuredClone(r.rData), ...(r.comments ? { comments: r.comments } : {}), disabled: false, lastModified: stamp() });
    },
    tamperBefore: (path, fn) => {
      tampers.push({ path, fn });
    },
    removeWhere: (zone, match) => {
      const list = zones.get(lower(zone)) ?? [];
      list.splice(0, list.length, ...list.filter((r) => !match(r)));
    },
    setFailing: (message) => {
      failing = message;
    },
    failNextHttp: (n, status) => {
      httpFailures = { n, status };
    },
    close: () => server.close(),
  };
}
