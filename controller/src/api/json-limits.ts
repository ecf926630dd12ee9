// Bounds on the shape of request documents, checked without recursion. JSON.parse copes
// with 10,000 levels of nesting, but structuredClone, JSON.stringify, merge patch and
// schema validation recurse and overflow the stack; so depth is refused at the door, and
// patches that copy subtrees are charged for what they copy.

/** Deepest nesting any request document may have; zlh objects need fewer than 12 levels. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * The deepest nesting of `{`/`[` in JSON text, scanning bytes (quotes and brackets are
 * ASCII, so they never occur inside a multi-byte UTF-8 sequence). Stops counting once past
 * `stopAbove`, so a hostile body costs one pass at most.
 */
export function jsonTextDepth(raw: Uint8Array, stopAbove = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return deepest;
}

/** The nesting depth of a parsed value (objects and arrays count one level each), without recursion. */
export function valueDepth(value: unknown, stopAbove = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (d > deepest) {
      deepest = d;
      if (deepest > stopAbove) return deepest;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, d + 1]);
    }
  }
  return deepest;
}

/**
 * An estimate of a value's JSON size in bytes (strings by length, plus punctuation),
 * walked without recursion and abandoned once past `budget`: the result is then
 * `budget + 1`, so measuring a huge value costs no more than the budget.
 */
export function boundedJsonSize(value: unknown, budget: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") size += v.length + 2;
    else if (typeof v === "number" || typeof v === "boolean" || v === null) size += 5;
    else if (Array.isArray(v)) {
      size += 2 + v.length;
      for (const c of v) stack.push(c);
    } else if (typeof v === "object") {
      size += 2;
      for (const [k, c] of Object.entries(v)) {
        size += k.length + 4;
        stack.push(c);
      }
    }
    if (size > budget) return budget + 1;
  }
  return size;
}
