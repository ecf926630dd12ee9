// The embedded DNS provider: every record in one zone-style text file that an operator can
// read, edit, or feed to a DNS server. The file is re-read on every call because someone may
// have edited it; zlh only rewrites its own lines (see zone-file.ts) and replaces the file
// atomically, one apply at a time.
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Logger } from "pino";
import { writeFileAtomic } from "../atomic-write.js";
import { Mutex } from "../mutex.js";
import { ioError } from "../provider-error.js";
import { applyDnsChanges } from "./apply-changes.js";
import { canonicalName } from "./record-rules.js";
import type { DnsChanges, DnsProvider, ObservedRecord } from "./types.js";
import { formatRecordLine, formatZone, parseZone, type ParsedZone, type ZoneEntry } from "./zone-file.js";

export interface FileDnsOptions {
  /** The records file (created on the first write). */
  path: string;
  /** The zone: origin for relative names in hand-written lines, and the bound for our records. */
  zone?: string;
  logger?: Logger;
}

const HEADER = [
  "; zlh DNS records. Lines ending in '; zerolaghub.dev/owner=...' are managed by the zlh controller;",
  "; other lines are yours and are kept as they are.",
];

// Applies to one file are serialized across every provider instance in this process (a read-
// modify-write racing another would drop its update); the atomic rename protects readers.
const fileLocks = new Map<string, Mutex>();
function mutexFor(path: string): Mutex {
  let m = fileLocks.get(path);
  if (!m) fileLocks.set(path, (m = new Mutex()));
  return m;
}

export class FileDnsProvider implements DnsProvider {
  readonly name = "file";
  private readonly path: string;
  private readonly zone?: string;
  private readonly logger?: Logger;
  private readonly mutex: Mutex;
  private parsed: { text: string; zone: ParsedZone } | undefined;

  constructor(options: FileDnsOptions) {
    this.path = options.path;
    this.mutex = mutexFor(resolve(options.path));
    this.zone = options.zone === undefined ? undefined : canonicalName(options.zone);
    this.logger = options.logger?.child({ provider: "dns/file" });
  }

  async observe(names: readonly string[]): Promise<ObservedRecord[]> {
    const wanted = new Set(names.map(canonicalName));
    return this.records().filter((r) => wanted.has(r.name));
  }

  async listOwned(): Promise<ObservedRecord[]> {
    return this.records().filter((r) => r.ownerMark !== undefined);
  }

  async listAll(): Promise<ObservedRecord[]> {
    return this.records();
  }

  apply(changes: DnsChanges): Promise<void> {
    return this.mutex.run(async () => {
      const { zone, exists } = this.read();
      const result = applyDnsChanges<ZoneEntry>(
        zone.entries,
        { recordOf: (e) => e.record, make: (r) => ({ lines: [formatRecordLine(r)], record: r }) },
        changes,
        this.zone,
        { exclusiveRRsets: true },
      );
      if (!result.changed) return;
      const entries = exists ? result.entries : [...HEADER.map((l) => ({ lines: [l] })), ...result.entries];
      this.write(formatZone({ entries, finalNewline: true }));
      this.logger?.info(
        { path: this.path, create: changes.create.length, update: changes.update.length, delete: changes.delete.length },
        "dns records written",
      );
    });
  }

  private records(): ObservedRecord[] {
    return this.read().zone.entries.flatMap((e) => (e.record ? [{ ...e.record }] : []));
  }

  private read(): { zone: ParsedZone; exists: boolean } {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { zone: { entries: [], finalNewline: true }, exists: false };
      throw ioError("cannot read", this.path, err);
    }
    // Every reconcile observes; parsing the whole zone each time would make a resync
    // quadratic. Reading is cheap, so reuse the parse while the bytes are the same
    // (an operator's edit changes them). Parsed zones are never mutated in place.
    if (this.parsed?.text !== text) this.parsed = { text, zone: parseZone(text, this.path, this.zone) };
    return { zone: this.parsed.zone, exists: true };
  }

  private write(content: string): void {
    let mode = 0o644;
    try {
      mode = statSync(this.path).mode & 0o777; // keep the operator's permissions
    } catch {
      try {
        mkdirSync(dirname(this.path), { recursive: true });
      } catch (err) {
        throw ioError("cannot create the directory of", this.path, err);
      }
    }
    writeFileAtomic(this.path, content, { tmpPath: `${this.path}.${process.pid}.tmp`, mode });
  }
}
