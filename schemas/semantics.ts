// Rules JSON Schema cannot express: uniqueness across list items and references between fields.
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

export function semanticErrors(kind: "GameServer" | "DevEnvironment", doc: unknown): FieldError[] {
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
