// `zlh describe`: everything about one object a person debugging it wants on one screen:
// metadata, spec, a status summary, conditions and the object's Events.
import { stringify } from "yaml";
import type { CoreV1Event } from "@kubernetes/client-node";
import { formatAge } from "./ages.js";
import { toCliError } from "./api-errors.js";
import { CliError } from "./cli-error.js";
import { printBlock, type CliIO } from "./cli-io.js";
import { connect, type Connection, type ConnectionOptions } from "./connection.js";
import { GROUP, resolveKinds, type KindInfo } from "./kinds.js";
import { ResourceClient } from "./resource-client.js";
import { displayPhase, type ResourceObject } from "./resource-rows.js";
import { formatTable } from "./table.js";
import { escapeControlCharacters } from "../plan/display-text.js";

/**
 * Every string in `value` with control characters shown escaped. Status and events come
 * from agents a workload controls: a raw ESC or newline there could retitle the terminal
 * or forge lines of this output, so nothing reaches the terminal unescaped. The controller
 * escapes them too; this holds also for whatever else wrote through the API.
 */
function escapeStrings<T>(value: T): T {
  if (typeof value === "string") return escapeControlCharacters(value) as T;
  if (Array.isArray(value)) return value.map(escapeStrings) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [escapeControlCharacters(k), escapeStrings(v)])) as T;
  }
  return value;
}

const NONE = "<none>";
const LABEL_WIDTH = 13;

function field(label: string, value: string): string {
  return `${`${label}:`.padEnd(LABEL_WIDTH)}${value}`;
}

function mapLines(label: string, map: Record<string, string> | undefined): string[] {
  const entries = Object.entries(map ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  if (entries.length === 0) return [field(label, NONE)];
  return entries.map(([k, v], i) => (i === 0 ? field(label, `${k}=${v}`) : `${" ".repeat(LABEL_WIDTH)}${k}=${v}`));
}

function indent(lines: string[], by = "  "): string[] {
  return lines.map((l) => (l ? by + l : l));
}

function timestamp(t: string | undefined, nowMs: number): string {
  return t ? `${t} (${formatAge(t, nowMs)} ago)` : NONE;
}

export function describeMetadata(obj: ResourceObject, nowMs: number): string[] {
  const m = obj.metadata ?? {};
  return [
    field("Name", m.name ?? NONE),
    field("Namespace", m.namespace ?? NONE),
    field("Kind", obj.kind ?? NONE),
    field("UID", m.uid ?? NONE),
    ...mapLines("Labels", m.labels),
    ...mapLines("Annotations", m.annotations),
    field("Created", timestamp(m.creationTimestamp, nowMs)),
    ...(m.deletionTimestamp ? [field("Deleting", `since ${timestamp(m.deletionTimestamp, nowMs)}`)] : []),
    field("Finalizers", m.finalizers?.length ? m.finalizers.join(", ") : NONE),
    field("Generation", String(m.generation ?? NONE)),
  ];
}

export function describeStatus(obj: ResourceObject, nowMs: number): string[] {
  const s = obj.status ?? {};
  const w = s.workload;
  const a = s.agent;
  const lines = [
    field("Phase", displayPhase(obj)),
    field("Observed", s.observedGeneration !== undefined ? `generation ${s.observedGeneration}` : NONE),
    field("VMID", s.vmid !== undefined ? String(s.vmid) : NONE),
    field("Workload", w ? `id=${w.id ?? NONE} node=${w.node ?? NONE} ip=${w.ip ?? NONE}` : NONE),
  ];
  if (s.endpoints?.length) {
    lines.push("Endpoints:", ...indent(formatTable(["NAME", "HOST", "PORT", "PROTOCOL", "URL"], s.endpoints.map((e) => [e.name, e.host, String(e.port), e.protocol, e.url]))));
  } else {
    lines.push(field("Endpoints", NONE));
  }
  if (s.urls?.codeServer) lines.push(field("Code-server", s.urls.codeServer));
  lines.push(
    field(
      "Agent",
      a
        ? `${a.state ?? "unknown"} (pid ${a.pid ?? NONE}, restarts ${a.restarts ?? 0}, last heartbeat ${a.lastHeartbeat ? `${formatAge(a.lastHeartbeat, nowMs)} ago` : "never"}${a.version ? `, version ${a.version}` : ""})`
        : NONE,
    ),
  );
  if (a?.message) lines.push(field("Agent says", a.message));
  if (s.provisioningComplete !== undefined) lines.push(field("Provisioned", String(s.provisioningComplete)));
  if (s.provisioningError) lines.push(field("Prov. error", s.provisioningError));
  return lines;
}

export function describeConditions(obj: ResourceObject, nowMs: number): string[] {
  const conds = obj.status?.conditions ?? [];
  if (conds.length === 0) return ["Conditions:  <none>"];
  return ["Conditions:", ...indent(formatTable(["TYPE", "STATUS", "REASON", "MESSAGE", "AGE"], conds.map((c) => [c.type, c.status, c.reason, c.message, formatAge(c.lastTransitionTime, nowMs)])))];
}

function eventTime(e: CoreV1Event): Date | string | undefined {
  return e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
}

export function describeEvents(events: readonly CoreV1Event[], nowMs: number): string[] {
  if (events.length === 0) return ["Events:      <none>"];
  const sorted = [...events].sort((a, b) => new Date(eventTime(a) ?? 0).getTime() - new Date(eventTime(b) ?? 0).getTime());
  const rows = sorted.map((e) => [
    e.type ?? "Normal",
    e.reason ?? "",
    `${formatAge(eventTime(e), nowMs)}${e.count && e.count > 1 ? ` (x${e.count})` : ""}`,
    e.source?.component ?? e.reportingComponent ?? "",
    (e.message ?? "").replace(/\s+/g, " "),
  ]);
  return ["Events:", ...indent(formatTable(["TYPE", "REASON", "AGE", "FROM", "MESSAGE"], rows))];
}

async function eventsFor(conn: Connection, obj: ResourceObject): Promise<CoreV1Event[]> {
  const list = await conn.core.listNamespacedEvent({
    namespace: obj.metadata?.namespace ?? conn.namespace,
    fieldSelector: `involvedObject.name=${obj.metadata?.name},involvedObject.kind=${obj.kind}`,
  });
  // Filter again client-side: a server that ignores fieldSelector must not show other objects' events.
  // And by uid: events of an earlier, deleted object of the same name are not this object's.
  const uid = obj.metadata?.uid;
  return list.items.filter(
    (e) =>
      e.involvedObject?.name === obj.metadata?.name &&
      (e.involvedObject?.kind ?? obj.kind) === obj.kind &&
      (uid === undefined || e.involvedObject?.uid === undefined || e.involvedObject.uid === uid),
  );
}

async function describeOne(io: CliIO, conn: Connection, client: ResourceClient, info: KindInfo, name: string): Promise<boolean> {
  const obj = await client.get(info, conn.namespace, name);
  if (!obj) {
    io.err(`${info.plural}.${GROUP} "${name}" not found`);
    return false;
  }
  const withKind = escapeStrings({ ...obj, kind: obj.kind ?? info.kind });
  const now = io.clock.now();
  let events: string[];
  try {
    events = describeEvents(escapeStrings(await eventsFor(conn, withKind)), now);
  } catch (e) {
    const err = toCliError(e, conn, "events");
    if (err instanceof CliError && err.reason === "NoServer") throw err;
    events = [`Events:      <unavailable: ${(err as Error).message.split("\n")[0]}>`];
  }
  const spec = stringify(withKind.spec ?? {}).replace(/\n$/, "").split("\n");
  printBlock(io.out, [
    ...describeMetadata(withKind, now),
    "Spec:",
    ...indent(spec),
    "Status:",
    ...indent(describeStatus(withKind, now)),
    ...describeConditions(withKind, now),
    ...events,
  ].join("\n"));
  return true;
}

export async function describeCommand(io: CliIO, kindArg: string, names: string[], opts: ConnectionOptions): Promise<number> {
  const kinds = resolveKinds(kindArg);
  if (kinds.length !== 1) throw new CliError("InvalidArgument", "describe takes one kind (gameserver or devenvironment)");
  if (names.length === 0) throw new CliError("InvalidArgument", "describe needs at least one NAME");
  const conn = connect(opts, io.env);
  const client = new ResourceClient(conn);
  let ok = true;
  for (const [i, name] of names.entries()) {
    if (i > 0) io.out("");
    ok = (await describeOne(io, conn, client, kinds[0]!, name)) && ok;
  }
  return ok ? 0 : 1;
}
