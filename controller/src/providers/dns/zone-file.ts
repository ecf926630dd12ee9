// Reads and writes the zone-style records file (RFC 1035 §5 master file syntax, the subset
// people write by hand). Every line is kept as raw text next to what it means, so lines zlh
// did not write (no owner comment, comments, $ORIGIN/$TTL, record types we do not manage)
// go back to disk byte for byte. zlh's own lines are always absolute and self-contained:
//   mc1.zlh.localhost. 60 IN A 127.77.0.100 ; zerolaghub.dev/owner=GameServer/default/mc1/<uid>
import { isIPv4, isIPv6 } from "node:net";
import { OWNER_LABEL, parseOwnerMark } from "../owner.js";
import { ProviderError } from "../provider-error.js";
import { canonicalName, canonicalValue, isRecordType } from "./record-rules.js";
import type { DesiredRecord, ObservedRecord, RecordType } from "./types.js";

/** One logical line group: a blank/comment line, a directive, or one (possibly multi-line) record. */
export interface ZoneEntry {
  lines: string[];
  record?: ObservedRecord;
}

export interface ParsedZone {
  entries: ZoneEntry[];
  finalNewline: boolean;
}

interface Token {
  /** Text without surrounding quotes, escapes not yet decoded. */
  raw: string;
  quoted: boolean;
}

class Cursor {
  constructor(
    readonly file: string,
    public line: number,
  ) {}
  fail(message: string): never {
    throw new ProviderError("ParseError", `${this.file}:${this.line}: ${message}`);
  }
}

// Splits one physical line into tokens; returns the paren depth after it and its comment.
function tokenizeLine(text: string, depth: number, tokens: Token[], at: Cursor): { depth: number; comment?: string } {
  let i = 0;
  let current: string | undefined;
  const end = () => {
    if (current !== undefined) tokens.push({ raw: current, quoted: false });
    current = undefined;
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === " " || ch === "\t" || ch === "\r") {
      end();
      i++;
    } else if (ch === ";") {
      end();
      return { depth, comment: text.slice(i + 1) };
    } else if (ch === "(" || ch === ")") {
      end();
      depth += ch === "(" ? 1 : -1;
      if (depth < 0) at.fail("')' without '('");
      i++;
    } else if (ch === '"') {
      end();
      let j = i + 1;
      let raw = "";
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\" && j + 1 < text.length) raw += text[j++];
        raw += text[j];
      }
      if (j >= text.length) at.fail("unterminated quoted string");
      tokens.push({ raw, quoted: true });
      i = j + 1;
    } else {
      current = (current ?? "") + ch;
      if (ch === "\\" && i + 1 < text.length) current += text[++i];
      i++;
    }
  }
  end();
  return { depth };
}

/** Decodes a character-string's escapes (`\"`, `\\`, `\DDD`) as bytes, then as UTF-8. */
function decodeCharString(raw: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === "\\" && /^\d{3}$/.test(raw.slice(i + 1, i + 4))) {
      bytes.push(Number(raw.slice(i + 1, i + 4)) & 255);
      i += 3;
      continue;
    }
    if (ch === "\\" && i + 1 < raw.length) i++;
    // By code point, so an astral character's surrogate pair stays together.
    const s = String.fromCodePoint(raw.codePointAt(i)!);
    i += s.length - 1;
    bytes.push(...Buffer.from(s, "utf8"));
  }
  return Buffer.from(bytes);
}

function parseTtl(s: string): number | undefined {
  if (/^\d+$/.test(s)) return Number(s);
  const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  if (!/^(\d+[smhdw])+$/i.test(s)) return undefined;
  let total = 0;
  for (const m of s.toLowerCase().matchAll(/(\d+)([smhdw])/g)) total += Number(m[1]) * units[m[2]!]!;
  return total;
}

function absoluteName(token: string, origin: string | undefined, at: Cursor): string {
  if (token === "@") return origin ?? at.fail("'@' used before any $ORIGIN (and no zone configured)");
  if (token.endsWith(".")) return canonicalName(token);
  if (origin === undefined) at.fail(`relative name "${token}" without $ORIGIN (and no zone configured)`);
  return canonicalName(`${token}.${origin}`);
}

function parseRdata(type: RecordType, rdata: Token[], origin: string | undefined, at: Cursor): string {
  const words = rdata.map((t) => t.raw);
  const one = (): string => {
    if (rdata.length !== 1) at.fail(`${type} record needs exactly one value, found ${rdata.length}`);
    return words[0]!;
  };
  switch (type) {
    case "A": {
      const v = one();
      if (!isIPv4(v)) at.fail(`A record value "${v}" is not an IPv4 address`);
      return v;
    }
    case "AAAA": {
      const v = one();
      if (!isIPv6(v)) at.fail(`AAAA record value "${v}" is not an IPv6 address`);
      return canonicalValue("AAAA", v);
    }
    case "CNAME":
      return absoluteName(one(), origin, at);
    case "TXT":
      if (rdata.length === 0) at.fail("TXT record needs at least one string");
      return Buffer.concat(rdata.map((t) => decodeCharString(t.raw))).toString("utf8");
    case "SRV": {
      if (rdata.length !== 4) at.fail(`SRV record needs "<priority> <weight> <port> <target>", found ${rdata.length} fields`);
      for (const [i, field] of ["priority", "weight", "port"].entries()) {
        if (!/^\d+$/.test(words[i]!) || Number(words[i]) > 65535) at.fail(`SRV ${field} "${words[i]}" is not an integer 0-65535`);
      }
      const target = words[3] === "." ? "." : absoluteName(words[3]!, origin, at);
      return canonicalValue("SRV", `${words[0]} ${words[1]} ${words[2]} ${target}`);
    }
  }
}

const CLASSES = new Set(["IN", "CH", "HS", "CS"]);
const MARK_COMMENT = new RegExp(`^\\s*${OWNER_LABEL.replace(/\./g, "\\.")}=(\\S*)\\s*$`);

/** Parses the whole file; `file` is only used in error messages. */
export function parseZone(text: string, file: string, zone?: string): ParsedZone {
  const lines = text.split("\n");
  const finalNewline = lines.length > 0 && lines[lines.length - 1] === "";
  if (finalNewline) lines.pop();

  const entries: ZoneEntry[] = [];
  let origin = zone === undefined ? undefined : canonicalName(zone);
  let defaultTtl: number | undefined;
  let lastTtl: number | undefined;
  let lastOwner: string | undefined;

  for (let i = 0; i < lines.length; ) {
    const at: Cursor = new Cursor(file, i + 1);
    const first = lines[i]!;
    const tokens: Token[] = [];
    const comments: string[] = [];
    let state = tokenizeLine(first, 0, tokens, at);
    if (state.comment !== undefined) comments.push(state.comment);
    let j = i + 1;
    while (state.depth > 0) {
      if (j >= lines.length) at.fail("'(' is never closed");
      state = tokenizeLine(lines[j]!, state.depth, tokens, new Cursor(file, j + 1));
      if (state.comment !== undefined) comments.push(state.comment);
      j++;
    }
    const entry: ZoneEntry = { lines: lines.slice(i, j) };
    entries.push(entry);
    i = j;
    if (tokens.length === 0) continue;

    const head = tokens[0]!.raw;
    if (!tokens[0]!.quoted && head.startsWith("$")) {
      const arg = tokens[1]?.raw;
      if (head.toUpperCase() === "$ORIGIN") {
        if (!arg) at.fail("$ORIGIN needs a name");
        origin = absoluteName(arg, origin, at);
      } else if (head.toUpperCase() === "$TTL") {
        defaultTtl = arg === undefined ? undefined : parseTtl(arg);
        if (defaultTtl === undefined) at.fail(`$TTL "${arg ?? ""}" is not a TTL`);
      }
      // $INCLUDE, $GENERATE and the like are kept verbatim; their records are not ours.
      continue;
    }

    let k = 0;
    let owner: string;
    if (/^[ \t]/.test(first)) {
      owner = lastOwner ?? at.fail("record without an owner name and no previous owner");
    } else {
      owner = absoluteName(tokens[0]!.raw, origin, at);
      k = 1;
    }
    lastOwner = owner;
    let ttl: number | undefined;
    let type: string | undefined;
    for (; k < tokens.length; k++) {
      const t = tokens[k]!.raw;
      const asTtl = ttl === undefined ? parseTtl(t) : undefined;
      if (asTtl !== undefined) ttl = asTtl;
      else if (CLASSES.has(t.toUpperCase())) continue;
      else {
        type = t.toUpperCase();
        k++;
        break;
      }
    }
    if (type === undefined) at.fail(`record for ${owner} has no type`);
    ttl = ttl ?? defaultTtl ?? lastTtl;
    if (ttl !== undefined) lastTtl = ttl;
    if (!isRecordType(type)) continue; // MX, NS, SOA…: kept, not managed

    if (ttl === undefined) at.fail(`${type} record for ${owner} has no TTL and no $TTL precedes it`);
    const value = parseRdata(type, tokens.slice(k), origin, at);
    let ownerMark: string | undefined;
    for (const c of comments) {
      const m = MARK_COMMENT.exec(c);
      if (!m) continue;
      if (!parseOwnerMark(m[1]!)) at.fail(`owner mark "${m[1]}" is not <kind>/<namespace>/<name>/<uid>`);
      ownerMark = m[1]!;
    }
    entry.record = { name: owner, type, ttl, value, ...(ownerMark !== undefined ? { ownerMark } : {}) };
  }
  return { entries, finalNewline };
}

function escapeTxtChar(ch: string): string {
  if (ch === '"' || ch === "\\") return `\\${ch}`;
  const code = ch.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return `\\${String(code).padStart(3, "0")}`;
  return ch;
}

/** TXT presentation: quoted character-strings of at most 255 bytes each. */
export function quoteTxt(text: string): string {
  const chunks: string[] = [];
  let current = "";
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, "utf8");
    if (bytes + size > 255) {
      chunks.push(current);
      current = "";
      bytes = 0;
    }
    current += escapeTxtChar(ch);
    bytes += size;
  }
  chunks.push(current);
  return chunks.map((c) => `"${c}"`).join(" ");
}

function presentRdata(r: DesiredRecord): string {
  switch (r.type) {
    case "CNAME":
      return `${r.value}.`;
    case "TXT":
      return quoteTxt(r.value);
    case "SRV": {
      const [p, w, port, target] = r.value.split(" ");
      return `${p} ${w} ${port} ${target === "." ? "." : `${target}.`}`;
    }
    default:
      return r.value;
  }
}

/** The line zlh writes for a (canonical, validated) record. */
export function formatRecordLine(r: DesiredRecord): string {
  return `${r.name}. ${r.ttl} IN ${r.type} ${presentRdata(r)} ; ${OWNER_LABEL}=${r.ownerMark}`;
}

export function formatZone(zone: ParsedZone): string {
  const lines = zone.entries.flatMap((e) => e.lines);
  return lines.length === 0 ? "" : lines.join("\n") + (zone.finalNewline ? "\n" : "");
}
