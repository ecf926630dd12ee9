// Rules JSON Schema cannot express: uniqueness across list items, references between fields,
// and characters that no consumer of a field can take (NUL, terminal control sequences).
import type { FieldError } from "./validate.js";
import type { GameServer, DevEnvironment } from "./generated/types.js";

function duplicates<T>(items: readonly T[], key: (t: T) => string | number, path: (i: number) => string, what: string): FieldError[] {
  const seen = new Map<string | number, number>();
  const out: FieldError[] = [];
  items.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first !== undefined) out.push({ path: path(i), message: `duplicate ${what} ${JSON.stringify(k)} (also at index ${first})` });
    else seen.set(k, i);
  });
  return out;
}

// C0 control characters other than tab and newline. A NUL cannot pass through execve at
// all (the agent would crash-loop on it), and escape sequences rewrite the terminal of
// whoever reads the value back. A single line (a stop command) may not hold a newline.
const TEXT_CONTROL = /[\u0000-\u0008\u000b-\u001f]/;
const LINE_CONTROL = /[\u0000-\u0008\u000a-\u001f]/;

function describeControl(value: string, pattern: RegExp): string {
  const c = pattern.exec(value)![0].charCodeAt(0);
  const name = c === 0 ? "a NUL byte" : c === 0x0a ? "a newline" : c === 0x0d ? "a carriage return" : c === 0x1b ? "an escape character" : "a control character";
  return `must not contain ${name} (U+${c.toString(16).toUpperCase().padStart(4, "0")})`;
}

// Same notation as validate.ts: `.spec.env.A`, `.spec.command[1]`, `.metadata.annotations["a/b"]`.
function child(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** NUL anywhere outside status, in keys or values: no consumer of a spec, label or annotation can use one. Walked without recursion. */
function nulErrors(doc: unknown): FieldError[] {
  const out: FieldError[] = [];
  const stack: [unknown, string][] = [];
  if (typeof doc === "object" && doc !== null) {
    for (const [k, v] of Object.entries(doc)) if (k !== "status") stack.push([v, child("", k)]);
  }
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === "string") {
      if (v.includes("\u0000")) out.push({ path, message: describeControl(v, /\u0000/) });
    } else if (Array.isArray(v)) v.forEach((c, i) => stack.push([c, child(path, i)]));
    else if (typeof v === "object" && v !== null) {
      for (const [k, c] of Object.entries(v)) {
        // Keys too: an annotation or env name holding a NUL is as unusable as a value.
        if (k.includes("\u0000")) out.push({ path: child(path, k), message: `key ${describeControl(k, /\u0000/)}` });
        stack.push([c, child(path, k)]);
      }
    }
  }
  return out;
}

function controlErrors(spec: { command?: string[]; env?: Record<string, string>; shutdown?: { command?: string } }): FieldError[] {
  const out: FieldError[] = [];
  (spec.command ?? []).forEach((arg, i) => {
    if (TEXT_CONTROL.test(arg)) out.push({ path: `.spec.command[${i}]`, message: describeControl(arg, TEXT_CONTROL) });
  });
  for (const [name, value] of Object.entries(spec.env ?? {})) {
    if (TEXT_CONTROL.test(value)) out.push({ path: child(".spec.env", name), message: describeControl(value, TEXT_CONTROL) });
  }
  const stop = spec.shutdown?.command;
  if (stop !== undefined && LINE_CONTROL.test(stop)) out.push({ path: ".spec.shutdown.command", message: describeControl(stop, LINE_CONTROL) });
  return out;
}

export function semanticErrors(kind: "GameServer" | "DevEnvironment", doc: unknown): FieldError[] {
  // Specific messages first; a NUL the specific rules already named is not repeated.
  const control = controlErrors((doc as GameServer | DevEnvironment).spec);
  const named = new Set(control.map((e) => e.path));
  return [...control, ...nulErrors(doc).filter((e) => !named.has(e.path)), ...shapeErrors(kind, doc)];
}

function shapeErrors(kind: "GameServer" | "DevEnvironment", doc: unknown): FieldError[] {
  if (kind === "GameServer") {
    const spec = (doc as GameServer).spec;
    const errs = [
      ...duplicates(spec.ports, (p) => `${p.port}/${p.protocol ?? "tcp"}`, (i) => `.spec.ports[${i}].port`, "port"),
      ...duplicates(spec.ports, (p) => p.name, (i) => `.spec.ports[${i}].name`, "port name"),
    ];
    const probe = spec.readiness?.tcp?.port;
    if (probe !== undefined && !spec.ports.some((p) => p.port === probe && (p.protocol ?? "tcp") === "tcp")) {
      errs.push({ path: ".spec.readiness.tcp.port", message: `must be one of the declared tcp ports (${spec.ports.filter((p) => (p.protocol ?? "tcp") === "tcp").map((p) => p.port).join(", ") || "none"})` });
    }
    if (spec.readiness?.tcp && spec.readiness.logLine) {
      errs.push({ path: ".spec.readiness", message: "set either tcp or logLine, not both" });
    }
    if (spec.readiness?.logLine) {
      try {
        new RegExp(spec.readiness.logLine.pattern);
      } catch (e) {
        errs.push({ path: ".spec.readiness.logLine.pattern", message: `is not a valid regular expression: ${(e as Error).message}` });
      }
    }
    if (!spec.readiness?.logLine && !spec.ports.some((p) => (p.protocol ?? "tcp") === "tcp")) {
      errs.push({ path: ".spec.readiness", message: "a server without tcp ports needs a logLine readiness probe" });
    }
    return errs;
  }
  const spec = (doc as DevEnvironment).spec;
  const errs = duplicates(spec.ports ?? [], (p) => p.port, (i) => `.spec.ports[${i}].port`, "port");
  (spec.ports ?? []).forEach((p, i) => {
    if (p.port === 6000 && spec.codeServer?.enabled !== false) errs.push({ path: `.spec.ports[${i}].port`, message: "6000 is taken by code-server" });
  });
  return errs;
}
