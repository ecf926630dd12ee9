// Maps a validator's field path (".spec.ports[1].port") back to where that field is
// written in the YAML source, so schema errors point at a line and column.
import { isMap, isScalar, isSeq, type Document, type LineCounter } from "yaml";

export type PathSegment = string | number;

const token = /\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;

/** Splits `.spec.env["MY VAR"]` into `["spec", "env", "MY VAR"]`; `.` alone is the root. */
export function parseFieldPath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  if (path === "." || path === "") return out;
  token.lastIndex = 0;
  while (token.lastIndex < path.length) {
    const start = token.lastIndex;
    const m = token.exec(path);
    if (!m) throw new Error(`unparsable field path ${JSON.stringify(path)} at ${start}`);
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]!) as string);
  }
  return out;
}

export interface SourcePosition {
  line: number;
  col: number;
}

/**
 * Position of the deepest node on `segments` that exists in `doc`: the key for a map
 * entry (where the field is named), the item for a list entry. A missing field
 * resolves to its parent, which is where it would have to be added.
 */
export function positionOf(doc: Document, segments: readonly PathSegment[], lineCounter: LineCounter): SourcePosition {
  let node: unknown = doc.contents;
  let offset = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      offset = (pair.key as { range?: [number, number, number] }).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return lineCounter.linePos(offset);
}
