// DNS records in a Technitium DNS Server zone over its HTTP API (APIS.md §a). Ownership is
// the record's `comments` field (`zerolaghub.dev/owner=<mark>`); observe asks only for the
// names concerned (one records/get per name, never `listZone=true` per resource); apply
// reads those names, runs the shared apply semantics (apply-changes.ts, the same as the
// twin's), and sends only the difference, each record named by its exact value.
import type { Logger } from "pino";
import { realClock, type Clock } from "../../engine/clock.js";
import { describeRequest, parseJson, sendHttp, type HttpTransport } from "../http-call.js";
import { parseOwnerMark } from "../owner.js";
import { ProviderError } from "../provider-error.js";
import { DEFAULT_RETRY, TransientError, withRetries, type RetryPolicy } from "../retry.js";
import { applyDnsChanges } from "./apply-changes.js";
import { diffRecords } from "./record-diff.js";
import { canonicalName, canonicalRecord, describeRecord, identicalRecord, isRecordType, recordProblem } from "./record-rules.js";
import type { DesiredRecord, DnsChanges, DnsProvider, ObservedRecord } from "./types.js";

export const TECHNITIUM_OWNER_PREFIX = "zerolaghub.dev/owner=";

export interface TechnitiumOptions {
  /** Base URL, e.g. http://127.0.0.1:5380 (a trailing /api is accepted). */
  url: string;
  /** The API token, or a function giving it (read on every call, so a rotated file is used). */
  token: string | (() => string);
  zone: string;
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  random?: () => number;
  timeoutMs?: number;
  logger?: Logger;
}

interface ApiRecord {
  name?: string;
  type?: string;
  ttl?: number;
  comments?: string;
  rData?: Record<string, unknown>;
}

type Envelope = { status?: string; errorMessage?: string; response?: Record<string, unknown> };

/** Technitium's answer was status "error": the message is the server's own. */
class TechnitiumApiError extends ProviderError {
  constructor(
    readonly serverMessage: string,
    message: string,
  ) {
    super("Unavailable", message);
  }
}

function valueOf(r: ApiRecord): string | undefined {
  const d = r.rData ?? {};
  switch (r.type) {
    case "A":
    case "AAAA":
      return typeof d.ipAddress === "string" ? d.ipAddress : undefined;
    case "CNAME":
      return typeof d.cname === "string" ? d.cname : undefined;
    case "TXT":
      return typeof d.text === "string" ? d.text : undefined;
    case "SRV":
      return [d.priority, d.weight, d.port, d.target].every((x) => x !== undefined) ? `${d.priority} ${d.weight} ${d.port} ${d.target}` : undefined;
    default:
      return undefined;
  }
}

/** The parameters that name a record by its value (add, delete, and "current" in update). */
function valueParams(r: { type: string; value: string }, prefix: "" | "new" = ""): Record<string, string> {
  const k = (name: string) => (prefix ? `new${name[0]!.toUpperCase()}${name.slice(1)}` : name);
  switch (r.type) {
    case "A":
    case "AAAA":
      return { [k("ipAddress")]: r.value };
    case "CNAME":
      return { cname: r.value };
    case "TXT":
      return { [k("text")]: r.value };
    case "SRV": {
      const [priority, weight, port, target] = r.value.split(" ") as [string, string, string, string];
      return { [k("priority")]: priority, [k("weight")]: weight, [k("port")]: port, [k("target")]: target };
    }
    default:
      throw new ProviderError("Invalid", `record type ${r.type} is not supported by Technitium here`);
  }
}

export class TechnitiumDnsProvider implements DnsProvider {
  readonly name = "technitium";
  private readonly base: string;
  private readonly token: () => string;
  private readonly zone: string;
  private readonly transport: HttpTransport;
  private readonly clock: Clock;
  private readonly policy: RetryPolicy;
  private readonly random?: () => number;
  private readonly logger?: Logger;

  constructor(o: TechnitiumOptions) {
    this.base = o.url.replace(/\/+$/, "").replace(/\/api$/, "");
    const token = o.token;
    this.token = typeof token === "string" ? () => token : token;
    this.zone = canonicalName(o.zone);
    this.transport = { service: "Technitium", timeoutMs: o.timeoutMs ?? 15_000 };
    this.clock = o.clock ?? realClock;
    this.policy = { ...DEFAULT_RETRY, ...o.retry };
    this.random = o.random;
    this.logger = o.logger?.child({ provider: "dns/technitium" });
  }

  async observe(names: readonly string[]): Promise<ObservedRecord[]> {
    const wanted = [...new Set(names.map(canonicalName))].filter((n) => n === this.zone || n.endsWith(`.${this.zone}`));
    const found = await Promise.all(wanted.map((n) => this.recordsAt(n)));
    return found.flat();
  }

  async apply(changes: DnsChanges): Promise<void> {
    for (const r of [...changes.create, ...changes.update.map((u) => u.to)]) {
      const c = canonicalRecord(r);
      const problem = recordProblem(c, this.zone);
      if (problem) throw new ProviderError("Invalid", `record ${describeRecord(c)}: ${problem}`);
    }
    const names = new Set([...changes.create, ...changes.delete, ...changes.update.flatMap((u) => [u.from, u.to])].map((r) => canonicalName(r.name)));
    const current = await this.observe([...names]);
    // The same rules as every other provider decide the outcome; only the difference is sent.
    const result = applyDnsChanges(current, { recordOf: (r) => r, make: (r) => ({ ...r }) }, changes, this.zone);
    if (!result.changed) return;
    const ops = diffRecords(current, result.entries as DesiredRecord[], changes);
    for (const r of ops.delete) await this.deleteRecord(r);
    for (const u of ops.update) await this.updateRecord(u.from, u.to);
    for (const r of ops.create) await this.addRecord(r);
  }

  async listOwned(): Promise<ObservedRecord[]> {
    // The garbage-collection sweep is the one caller that needs the whole zone, once per sweep.
    const response = await this.call("get", "/api/zones/records/get", { domain: this.zone, zone: this.zone, listZone: "true" });
    return this.toObserved(response).filter((r) => r.ownerMark !== undefined);
  }

  private async recordsAt(name: string): Promise<ObservedRecord[]> {
    const response = await this.call("get", "/api/zones/records/get", { domain: name, zone: this.zone });
    return this.toObserved(response).filter((r) => r.name === name);
  }

  private toObserved(response: Record<string, unknown>): ObservedRecord[] {
    const records = Array.isArray(response.records) ? (response.records as ApiRecord[]) : [];
    const out: ObservedRecord[] = [];
    for (const r of records) {
      const value = valueOf(r);
      if (!r.name || !r.type || !isRecordType(r.type) || value === undefined || typeof r.ttl !== "number") continue;
      const mark = r.comments?.startsWith(TECHNITIUM_OWNER_PREFIX) ? r.comments.slice(TECHNITIUM_OWNER_PREFIX.length).trim() : undefined;
      const record: ObservedRecord = canonicalRecord({ name: r.name, type: r.type, ttl: r.ttl, value });
      if (mark && parseOwnerMark(mark)) record.ownerMark = mark;
      out.push(record);
    }
    return out;
  }

  private common(r: { name: string; type: string }): Record<string, string> {
    return { domain: r.name, zone: this.zone, type: r.type };
  }

  private async addRecord(r: DesiredRecord): Promise<void> {
    try {
      await this.call("add", "/api/zones/records/add", { ...this.common(r), ttl: String(r.ttl), comments: TECHNITIUM_OWNER_PREFIX + r.ownerMark, ...valueParams(r) }, r);
    } catch (err) {
      // A retried add whose first try landed: fine if what is there now is exactly ours.
      if (err instanceof TechnitiumApiError && /already exists/i.test(err.serverMessage) && (await this.present(r))) return;
      throw err;
    }
  }

  private async updateRecord(from: ObservedRecord, to: DesiredRecord): Promise<void> {
    const params = { ...this.common(from), ...valueParams(from), ...(from.type === "CNAME" ? valueParams(to) : valueParams(to, "new")), ttl: String(to.ttl), comments: TECHNITIUM_OWNER_PREFIX + to.ownerMark };
    try {
      await this.call("update", "/api/zones/records/update", params, from);
    } catch (err) {
      if (err instanceof TechnitiumApiError && /no such record/i.test(err.serverMessage)) {
        if (await this.present(to)) return;
        throw new ProviderError("Conflict", `record ${describeRecord(from)} is no longer there; observe again before updating`);
      }
      throw err;
    }
  }

  private async deleteRecord(r: ObservedRecord): Promise<void> {
    if (r.ownerMark === undefined) throw new ProviderError("Conflict", `record ${describeRecord(r)} is not owned by zlh; refusing to delete it`);
    try {
      await this.call("delete", "/api/zones/records/delete", { ...this.common(r), ...valueParams(r) }, r);
    } catch (err) {
      // Documented: deleting a record that is not there is an error; for us it is done.
      if (err instanceof TechnitiumApiError && /no such record/i.test(err.serverMessage)) return;
      throw err;
    }
  }

  private async present(r: DesiredRecord): Promise<boolean> {
    return (await this.recordsAt(canonicalName(r.name))).some((o) => identicalRecord(o, canonicalRecord(r)));
  }

  private async call(op: string, path: string, params: Record<string, string>, record?: ObservedRecord): Promise<Record<string, unknown>> {
    const url = new URL(this.base + path);
    const what = record ? ` ${describeRecord(canonicalRecord(record))}` : params.domain ? ` ${params.domain}` : "";
    const ctx = {
      clock: this.clock,
      policy: this.policy,
      random: this.random,
      onFailure: (err: ProviderError, attempt: number, willRetry: boolean) =>
        this.logger?.warn({ provider: "dns/technitium", op, request: describeRequest({ method: "POST", url }), attempt, willRetry, reason: err.reason, err: err.message }, "provider call failed"),
    };
    return withRetries(ctx, async () => {
      const reply = await sendHttp(this.transport, {
        method: "POST",
        url,
        headers: { authorization: `Bearer ${this.token()}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(params).toString(),
      });
      if (reply.status >= 500) throw new TransientError(`Technitium ${op}${what}: HTTP ${reply.status} ${reply.statusText}`.trimEnd());
      const body = parseJson(reply.text) as Envelope | undefined;
      if (reply.status !== 200 || !body || typeof body !== "object") {
        throw new ProviderError("Unavailable", `Technitium ${op}${what}: HTTP ${reply.status}, not a Technitium API reply`);
      }
      if (body.status === "ok") return body.response ?? {};
      if (body.status === "invalid-token" || body.status === "2fa-required") {
        throw new ProviderError("Unavailable", `Technitium ${op}${what}: the API token was refused (${body.status}); check tokenFile`);
      }
      const serverMessage = body.errorMessage ?? `status ${String(body.status)}`;
      throw new TechnitiumApiError(serverMessage, `Technitium ${op}${what}: ${serverMessage}`);
    });
  }
}
