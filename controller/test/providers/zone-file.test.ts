import { describe, expect, it } from "vitest";
import { formatRecordLine, formatZone, parseZone, quoteTxt } from "../../src/providers/dns/zone-file.js";
import type { DesiredRecord } from "../../src/providers/dns/types.js";

const MARK = "DevEnvironment/team-a/alice/5d1e2f30-1111-4222-8333-944445555666";

function records(text: string, zone?: string) {
  return parseZone(text, "zone.txt", zone).entries.flatMap((e) => (e.record ? [e.record] : []));
}

describe("zone file", () => {
  it("round-trips TXT text with quotes, backslashes, control characters and non-ASCII", () => {
    const value = 'a "quoted" \\ path;\tand ünïcødé 🎮';
    const r: DesiredRecord = { name: "t.zlh.localhost", type: "TXT", ttl: 60, value, ownerMark: MARK };
    expect(records(formatRecordLine(r) + "\n")).toEqual([r]);
  });

  it("splits TXT text into strings of at most 255 bytes and joins them back", () => {
    const value = "é".repeat(200); // 400 bytes
    const quoted = quoteTxt(value);
    const strings = [...quoted.matchAll(/"([^"]*)"/g)].map((m) => Buffer.byteLength(m[1]!, "utf8"));
    expect(strings.length).toBe(2);
    expect(Math.max(...strings)).toBeLessThanOrEqual(255);
    expect(records(`t.zlh.localhost. 60 IN TXT ${quoted}\n`)[0]?.value).toBe(value);
  });

  it("reads a record spread over lines in parentheses as one entry", () => {
    const text = "x.zlh.localhost. 60 IN SRV ( 1 2\n  3 target.zlh.localhost. ) ; note\nnext.zlh.localhost. 60 IN A 10.0.0.1\n";
    const zone = parseZone(text, "zone.txt");
    expect(zone.entries.map((e) => e.lines.length)).toEqual([2, 1]);
    expect(zone.entries[0]?.record).toEqual({ name: "x.zlh.localhost", type: "SRV", ttl: 60, value: "1 2 3 target.zlh.localhost" });
    expect(formatZone(zone)).toBe(text);
  });

  it("understands TTL units, class before TTL, and the previous owner on indented lines", () => {
    const text = "$ORIGIN zlh.localhost.\nhost IN 1h30m A 10.0.0.1\n  2m IN AAAA 2001:DB8::1\n";
    expect(records(text)).toEqual([
      { name: "host.zlh.localhost", type: "A", ttl: 5400, value: "10.0.0.1" },
      { name: "host.zlh.localhost", type: "AAAA", ttl: 120, value: "2001:db8::1" },
    ]);
  });

  it("uses the configured zone as origin when the file has no $ORIGIN", () => {
    expect(records("@ 60 IN A 10.0.0.1\nwww 60 IN CNAME @\n", "zlh.localhost")).toEqual([
      { name: "zlh.localhost", type: "A", ttl: 60, value: "10.0.0.1" },
      { name: "www.zlh.localhost", type: "CNAME", ttl: 60, value: "zlh.localhost" },
    ]);
  });

  it.each([
    ["relative name without origin", "www 60 IN A 10.0.0.1\n", "zone.txt:1: relative name"],
    ["unterminated quote", '; c\nt.zlh. 60 IN TXT "open\n', "zone.txt:2: unterminated"],
    ["unclosed parenthesis", "a.b. 60 IN SRV ( 1 2 3\n", "zone.txt:1: '(' is never closed"],
    ["bad AAAA", "a.b. 60 IN AAAA 10.0.0.1\n", "zone.txt:1: AAAA record value"],
    ["no TTL anywhere", "a.b. IN A 10.0.0.1\n", "zone.txt:1: A record for a.b has no TTL"],
    ["malformed owner mark", "a.b. 60 IN A 10.0.0.1 ; zerolaghub.dev/owner=nobody\n", 'zone.txt:1: owner mark "nobody"'],
  ])("reports %s with file and line", (_what, text, message) => {
    expect(() => parseZone(text, "zone.txt")).toThrow(message);
  });

  it("keeps records of types it does not manage without reading their data", () => {
    const text = "a.b. 60 IN MX 10 mail.b.\na.b. 60 IN CAA 0 issue \"ca.example\"\n";
    expect(records(text)).toEqual([]);
    expect(formatZone(parseZone(text, "zone.txt"))).toBe(text);
  });
});
