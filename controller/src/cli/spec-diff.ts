// What `apply --dry-run` would change, one line per changed field: the operator sees the
// effect of an edit before it restarts anything. Paths are the JSON paths kubectl prints
// (`spec.ports[0].port`); values are JSON, so "" and a missing field look different.

const NONE = "<none>";
const MAX_VALUE = 120;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return NONE;
  const text = JSON.stringify(v);
  return text.length <= MAX_VALUE ? text : `${text.slice(0, MAX_VALUE - 1)}…`;
}

function walk(path: string, before: unknown, after: unknown, out: string[]): void {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const k of keys) walk(`${path}.${k}`, before[k], after[k], out);
    return;
  }
  // Arrays of equal length are compared item by item (a changed port shows as one line);
  // a list that grew or shrank is shown whole.
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((b, i) => walk(`${path}[${i}]`, b, after[i], out));
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push(`${path}: ${show(before)} -> ${show(after)}`);
}

/** One `path: old -> new` line per leaf that differs between `before` and `after`, under `root`. */
export function jsonChanges(root: string, before: unknown, after: unknown): string[] {
  const out: string[] = [];
  walk(root, before, after, out);
  return out;
}
