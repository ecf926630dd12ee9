// The hostile values the fuzzer plants in documents: each list holds only values a correct
// server must refuse in the field it is planted in (so any acceptance is a finding).
import type { Rng } from "./rng.js";

/** A marker no honest request contains: a file or directory named with it means a traversal got through. */
export const CANARY = "zlhfuzzcanary";

export const BAD_NAMES = [
  "", "A", "Upper", "-a", "a-", "a_b", "a.b", "a b", "a/b", "a\\b", "..", ".", "a".repeat(64), "é", "a\u202eb",
  "a%2fb", "a:b", "a@b", "*", "a`b", "a\tb", "a\nb", "\u0000", "a\u0000b", "a\u001b[31mb", "ab\r", "\u00a0a",
];

export const TRAVERSALS = [
  `../${CANARY}`, `../../${CANARY}`, `../../../../../../tmp/${CANARY}`, `..\\..\\${CANARY}`, `/tmp/${CANARY}`,
  `....//${CANARY}`, `%2e%2e/${CANARY}`, `~/${CANARY}`, `./${CANARY}`, `a/../${CANARY}`,
];

/** Path segments (sent exactly as written; no normalisation) that must never reach a file or another object. */
export const TRAVERSAL_SEGMENTS = [
  "..", "%2e%2e", "%2E%2E", ".%2e", "..%2f..%2f" + CANARY, "%2e%2e%2f%2e%2e%2f" + CANARY, "%252e%252e",
  "..%5c..%5c" + CANARY, "..;", "%00", "a%00b", "%2f", "%2F" + CANARY, "." , "..%00", "%c0%ae%c0%ae",
];

/** Traefik rule and DNS zone syntax: a hostname holding any of them could rewrite a router or a zone. */
export const INJECTIONS = [
  "a`) || Host(`evil.example", "a`)||PathPrefix(`/", "HostSNI(`*`)", "a.evil.example", "*", "*.a", "a..b",
  "a\nb IN A 6.6.6.6", "a; b", "a b", "a$(x)", "a\"b", "a'b", "a{b}", "a|b", "a&b", "@", "a\\.", "$ORIGIN evil.",
];

// C0 controls that no spec string may carry (tab and newline are allowed except in single lines).
const CONTROLS = ["\u0001", "\u0007", "\u0008", "\u000b", "\u000c", "\r", "\u001b", "\u001b[2J", "\u001b]0;pwned\u0007", "\u001f"];

export function control(rng: Rng): string {
  return rng.pick(CONTROLS);
}

/** `base` with `insert` spliced in at a random position. */
export function spliced(rng: Rng, base: string, insert: string): string {
  const at = rng.int(0, base.length);
  return base.slice(0, at) + insert + base.slice(at);
}

export function badName(rng: Rng, i: number): string {
  if (rng.chance(0.5)) return rng.pick(BAD_NAMES);
  const base = `fz-${i}`;
  return spliced(rng, base, rng.pick(["_", ".", "/", " ", "A", "\u0000", "\u001b", "..", "%", "é", "`", "\n"]));
}

/** Nesting `depth` deep, built as text (a recursive JSON.stringify would be the first to fall over). */
export function deepJson(rng: Rng, depth: number): string {
  if (rng.chance(0.5)) return "[".repeat(depth) + "]".repeat(depth);
  return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}
