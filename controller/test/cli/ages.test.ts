import { describe, expect, it } from "vitest";
import { formatAge, formatDuration, parseDuration } from "../../src/cli/ages.js";

const now = Date.parse("2026-01-10T12:00:00Z");

describe("formatAge", () => {
  it.each([
    ["2026-01-10T11:59:55Z", "5s"],
    ["2026-01-10T11:57:00Z", "3m"],
    ["2026-01-10T10:00:00Z", "2h"],
    ["2026-01-06T12:00:00Z", "4d"],
    ["2026-01-10T12:00:00Z", "0s"],
  ])("shows %s as %s", (t, want) => {
    expect(formatAge(t, now)).toBe(want);
  });

  it("never prints a negative age for a timestamp from a clock that runs ahead", () => {
    expect(formatAge("2026-01-10T12:00:30Z", now)).toBe("0s");
  });

  it("accepts Date objects (client-node deserialises event times)", () => {
    expect(formatAge(new Date(now - 90_000), now)).toBe("1m");
  });

  it("says <unknown> for a missing or unparsable timestamp", () => {
    expect(formatAge(undefined, now)).toBe("<unknown>");
    expect(formatAge("yesterday", now)).toBe("<unknown>");
  });

  it("rounds down to the largest whole unit", () => {
    expect(formatDuration(59_999)).toBe("59s");
    expect(formatDuration(3_599_999)).toBe("59m");
  });
});

describe("parseDuration", () => {
  it.each([
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["2d", 172_800_000],
    ["250ms", 250],
    ["90", 90_000],
  ])("parses %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "5x", "m5", "5m extra", "-1s"])("rejects %j naming the flag", (text) => {
    expect(() => parseDuration(text, "--timeout")).toThrow(/^--timeout: ".*" is not a duration/);
  });
});
