// DNS records in a Cloudflare zone through API v4 with a scoped token (APIS.md §b), using the
// official SDK with its own retries off: 429 and 5xx are retried here, on the injected clock,
// honouring Retry-After. Records are looked up by exact name (and type, for writes) with
// every page followed; ownership is the record comment; only records carrying our mark are
// ever changed. `proxied` applies to DevEnvironment A/AAAA/CNAME records only: SRV/TXT
// cannot be proxied and game ports are not HTTP, so GameServer records never are.
import Cloudflare, { APIConnectionError, APIError } from "cloudflare";
import type { Logger } from "pino";
import { realClock, type Clock } from "../../engine/clock.js";
import { parseOwnerMark } from "../owner.js";
import { ProviderError } from "../provider-error.js";
import { DEFAULT_RETRY, parseRetryAfter, TransientError, withRetries, type RetryPolicy } from "../retry.js";
import { applyDnsChanges } from "./apply-changes.js";
import { diffRecords } from "./record-diff.js";
import { canonicalName, canonicalRecord, describeRecord, identicalRecord, isRecordType, recordProblem } from "./record-rules.js";
import type { DesiredRecord, DnsChanges, DnsProvider, ObservedRecord } from "./types.js";

export const CLOUDFLARE_OWNER_PREFIX = "zerolaghub.dev/owner=";

export interface CloudflareOptions {
  /** API base, default https://api.cloudflare.com/client/v4. */
  url?: string;
  /** The API token, or a function giving it (read on every call, so a rotated file is used). */
  token: string | (() => string);
  zoneId: string;
  zone: string;
  /** Proxy DevEnvironment (HTTP) names through Cloudflare; default false. */
  proxied?: boolean;
  /** Records per list page (default 100). */
  perPage?: number;
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  random?: () => number;
  timeoutMs?: number;
  logger?: Logger;
}

interface ApiRecord {
  id: string;
  name: string;
  type: string;
  content?: string;
  ttl: number;
  proxied?: boolean;
  comment?: string | null;
  priority?: number;
  data?: { priority?: number; weight?: number; port?: number; target?: string };
}

interface Found {
  record: ObservedRecord;
  id: string;
}

const rrKey = (r: { name: string; type: string; value: string }) => `${r.name}|${r.type}|${r.value}`;
const OWNER = /^zerolaghub\.dev\/owner=(\S+?)(?: ttl=(\d+))?$/;

export class CloudflareDnsProvider implements DnsProvider {
  readonly name = "cloudflare";
  private readonly client: Cloudflare;
  private readonly token: () => string;
  private readonly zoneId: string;
  private readonly zone: string;
  private readonly proxied: boolean;
  private readonly perPage: number;
  private readonly clock: Clock;
  private readonly policy: RetryPolicy;
  private readonly random?: () => number;
  private readonly logger?: Logger;

  constructor(o: CloudflareOptions) {
    const token = o.token;
    this.token = typeof token === "string" ? () => token : token;
    // Every credential is given explicitly: the SDK would otherwise pick CLOUDFLARE_* variables
    // from the environment and send them alongside the token.
    this.client = new Cloudflare({
      apiToken: this.token(),
      apiKey: null,
      apiEmail: null,
      userServiceKey: null,
      baseURL: o.url ?? "https://api.cloudflare.com/client/v4",
      maxRetries: 0,
      timeout: o.timeoutMs ?? 15_000,
      logLevel: "off",
    });
    this.zoneId = o.zoneId;
    this.zone = canonicalName(o.zone);
    this.proxied = o.proxied ?? false;
    this.perPage = o.perPage ?? 100;
    this.clock = o.clock ?? realClock;
    this.policy = { ...DEFAULT_RETRY, ...o.retry };
    this.random = o.random;
    this.logger = o.logger?.child({ provider: "dns/cloudflare" });
  }

  async observe(names: readonly string[]): Promise<ObservedRecord[]> {
    const wanted = [...new Set(names.map(canonicalName))].filter((n) => this.inZone(n));
    const found = await Promise.all(wanted.map((n) => this.lookup({ name: n })));
    return found.flat().map((f) => f.record);
  }

  async apply(changes: DnsChanges): Promise<void> {
    for (const r of [...changes.create, ...changes.update.map((u) => u.to)]) {
      const c = canonicalRecord(r);
      const problem = recordProblem(c, this.zone);
      if (problem) throw new ProviderError("Invalid", `record ${describeRecord(c)}: ${problem}`);
    }
    // Writes need record ids: look each (name, type) up exactly, every page.
    const pairs = new Map<string, { name: string; type: string }>();
    for (const r of [...changes.create, ...changes.delete, ...changes.update.flatMap((u) => [u.from, u.to])]) {
      const c = canonicalRecord(r);
      pairs.set(`${c.name}|${c.type}`, { name: c.name, type: c.type });
    }
    const found = (await Promise.all([...pairs.values()].filter((p) => this.inZone(p.name)).map((p) => this.lookup(p)))).flat();
    const ids = new Map(found.map((f) => [rrKey(f.record), f.id]));
    const current = found.map((f) => f.record);
    const result = applyDnsChanges(current, { recordOf: (r) => r, make: (r) => ({ ...r }) }, changes, this.zone);
    if (!result.changed) return;
    const ops = diffRecords(current, result.entries as DesiredRecord[], changes);
    for (const r of ops.delete) await this.remove(r, ids.get(rrKey(r))!);
    for (const u of ops.update) await this.edit(u.from, ids.get(rrKey(u.from))!, u.to);
    for (const r of ops.create) await this.create(r);
  }

  async listOwned(): Promise<ObservedRecord[]> {
    return (await this.lookup({ commentPrefix: CLOUDFLARE_OWNER_PREFIX })).map((f) => f.record).filter((r) => r.ownerMark !== undefined);
  }

  private inZone(name: string): boolean {
    return name === this.zone || name.endsWith(`.${this.zone}`);
  }

  /** Whether this record is sent proxied: DevEnvironment HTTP names only, and only if configured. */
  private proxies(r: DesiredRecord): boolean {
    return this.proxied && (r.type === "A" || r.type === "AAAA" || r.type === "CNAME") && r.ownerMark.startsWith("DevEnvironment/");
  }

  private comment(r: DesiredRecord): string {
    // A proxied record's TTL reads back as 1 (automatic); the comment keeps the one we asked for.
    return `${CLOUDFLARE_OWNER_PREFIX}${r.ownerMark}${this.proxies(r) ? ` ttl=${r.ttl}` : ""}`;
  }

  private body(r: DesiredRecord): Record<string, unknown> {
    const common = { type: r.type, name: r.name, ttl: r.ttl, comment: this.comment(r) };
    if (r.type === "SRV") {
      const [priority, weight, port, target] = r.value.split(" ") as [string, string, string, string];
      return { ...common, data: { priority: Number(priority), weight: Number(weight), port: Number(port), target } };
    }
    return { ...common, content: r.value, ...(r.type === "TXT" ? {} : { proxied: this.proxies(r) }) };
  }

  private toObserved(a: ApiRecord): ObservedRecord | undefined {
    if (!isRecordType(a.type)) return undefined;
    let value = a.content ?? "";
    if (a.type === "SRV") {
      const d = a.data;
      if (d && [d.priority, d.weight, d.port, d.target].every((x) => x !== undefined)) value = `${d.priority} ${d.weight} ${d.port} ${d.target}`;
      else if (a.priority !== undefined && value.split(" ").length === 3) value = `${a.priority} ${value}`;
    }
    const m = OWNER.exec(a.comment ?? "");
    const mark = m && parseOwnerMark(m[1]!) ? m[1]! : undefined;
    const ttl = a.proxied && m?.[2] ? Number(m[2]) : a.ttl;
    return canonicalRecord({ name: a.name, type: a.type, ttl, value, ...(mark ? { ownerMark: mark } : {}) });
  }

  private async lookup(q: { name?: string; type?: string; commentPrefix?: string }): Promise<Found[]> {
    const out: Found[] = [];
    const what = q.name ? `${q.name}${q.type ? ` ${q.type}` : ""}` : "owned records";
    for (let page = 1; ; page++) {
      const params = {
        zone_id: this.zoneId,
        ...(q.name ? { name: { exact: q.name } } : {}),
        ...(q.type ? { type: q.type } : {}),
        ...(q.commentPrefix ? { comment: { startswith: q.commentPrefix } } : {}),
        match: "all" as const,
        page,
        per_page: this.perPage,
      };
      const res = await this.call("list", what, () => this.client.dns.records.list(params as Parameters<Cloudflare["dns"]["records"]["list"]>[0]));
      const items = (res.result ?? []) as unknown as ApiRecord[];
      for (const a of items) {
        const record = this.toObserved(a);
        // name.exact is exact already; the check keeps a looser server from widening our view.
        if (record && (!q.name || record.name === q.name)) out.push({ record, id: a.id });
      }
      const info = res.result_info as { total_pages?: number } | undefined;
      const totalPages = info?.total_pages;
      if (items.length === 0 || (totalPages !== undefined ? page >= totalPages : items.length < this.perPage)) break;
    }
    return out;
  }

  private async create(r: DesiredRecord): Promise<void> {
    try {
      await this.call("create", describeRecord(r), () => this.client.dns.records.create({ zone_id: this.zoneId, ...this.body(r) } as Parameters<Cloudflare["dns"]["records"]["create"]>[0]));
    } catch (err) {
      const code = cloudflareCode(err);
      // A duplicate after a retried create whose first try landed: fine if it is exactly ours.
      if ((code === 81057 || code === 81058) && (await this.lookup(r)).some((f) => identicalRecord(f.record, canonicalRecord(r)))) return;
      if (code === 81057 || code === 81058 || code === 81053 || code === 81054) throw conflict(err, r);
      throw err;
    }
  }

  private async edit(from: ObservedRecord, id: string, to: DesiredRecord): Promise<void> {
    try {
      await this.call("update", describeRecord(from), () => this.client.dns.records.edit(id, { zone_id: this.zoneId, ...this.body(to) } as Parameters<Cloudflare["dns"]["records"]["edit"]>[1]));
    } catch (err) {
      const code = cloudflareCode(err);
      if (code === 81044) {
        if ((await this.lookup(to)).some((f) => identicalRecord(f.record, canonicalRecord(to)))) return;
        throw new ProviderError("Conflict", `record ${describeRecord(from)} is no longer there; observe again before updating`);
      }
      if (code === 81057 || code === 81058 || code === 81053 || code === 81054) throw conflict(err, to);
      throw err;
    }
  }

  private async remove(r: ObservedRecord, id: string): Promise<void> {
    if (r.ownerMark === undefined) throw new ProviderError("Conflict", `record ${describeRecord(r)} is not owned by zlh; refusing to delete it`);
    try {
      await this.call("delete", describeRecord(r), () => this.client.dns.records.delete(id, { zone_id: this.zoneId }));
    } catch (err) {
      if (cloudflareCode(err) === 81044) return; // already gone
      throw err;
    }
  }

  /** One SDK call with our retries; every failed try is one log line. */
  private async call<T>(op: string, what: string, fn: () => PromiseLike<T>): Promise<T> {
    return withRetries(
      {
        clock: this.clock,
        policy: this.policy,
        random: this.random,
        onFailure: (err, attempt, willRetry) => this.logger?.warn({ provider: "dns/cloudflare", op, record: what, attempt, willRetry, reason: err.reason, err: err.message }, "provider call failed"),
      },
      async () => {
        this.client.apiToken = this.token();
        try {
          return await fn();
        } catch (err) {
          throw this.translate(op, what, err);
        }
      },
    );
  }

  private translate(op: string, what: string, err: unknown): ProviderError {
    const prefix = `Cloudflare ${op} ${what}`;
    if (err instanceof APIConnectionError) return new TransientError(`${prefix}: cannot reach the API: ${err.message}`, undefined, { cause: err });
    if (err instanceof APIError) {
      const detail = (err.errors ?? []).map((e) => `${e.message} (code ${e.code})`).join("; ") || `HTTP ${err.status}`;
      const status = err.status ?? 0;
      if (status === 429 || status >= 500) {
        return new TransientError(`${prefix}: ${detail}`, parseRetryAfter(err.headers?.get("retry-after"), this.clock.now()), { cause: err });
      }
      const wrapped = new ProviderError(status === 400 ? "Invalid" : status === 404 ? "NotFound" : "Unavailable", `${prefix}: ${detail}`, { cause: err });
      return wrapped;
    }
    return new ProviderError("Unavailable", `${prefix}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function cloudflareCode(err: unknown): number | undefined {
  const api = (err as { cause?: unknown }).cause;
  return api instanceof APIError ? api.errors?.[0]?.code : undefined;
}

function conflict(err: unknown, r: DesiredRecord): ProviderError {
  return new ProviderError("Conflict", `record ${describeRecord(canonicalRecord(r))} clashes with an existing record: ${(err as Error).message}`, { cause: err });
}

