// `zlh get`: a table (or json/yaml/names) of GameServers and DevEnvironments, optionally
// followed by one row per change (`-w`).
import { stringify } from "yaml";
import { CliError } from "./cli-error.js";
import { printBlock, type CliIO } from "./cli-io.js";
import { connect, type ConnectionOptions } from "./connection.js";
import { followChanges, type ChangeType } from "./get-watch.js";
import { GROUP, resolveKinds, type KindInfo } from "./kinds.js";
import { nameOf, parseOutputFormat, renderObjects, type OutputFormat } from "./object-output.js";
import { ResourceClient, type ResourceList } from "./resource-client.js";
import { resourceRow, rowHeaders, type ResourceObject } from "./resource-rows.js";
import { StreamingTable, formatTable } from "./table.js";

export interface GetOptions extends ConnectionOptions {
  output?: string;
  watch?: boolean;
  allNamespaces?: boolean;
  /** -l: a label selector, as kubectl takes it (`tier=gold,env!=dev`, `app in (a,b)`). */
  selector?: string;
}

interface Fetched {
  objects: ResourceObject[];
  lists: Map<KindInfo, ResourceList>;
  missing: KindInfo[];
}

async function fetchObjects(client: ResourceClient, kinds: KindInfo[], namespace: string | undefined, name: string | undefined, selector: string | undefined): Promise<Fetched> {
  const out: Fetched = { objects: [], lists: new Map(), missing: [] };
  for (const info of kinds) {
    if (name !== undefined) {
      const obj = await client.get(info, namespace!, name);
      if (obj) out.objects.push({ ...obj, kind: obj.kind ?? info.kind });
      else out.missing.push(info);
    } else {
      const list = await client.list(info, namespace, selector);
      out.lists.set(info, list);
      out.objects.push(...list.items);
    }
  }
  return out;
}

function printTable(io: CliIO, objects: ResourceObject[], headers: string[], rowOf: (o: ResourceObject) => string[]): StreamingTable {
  const rows = objects.map(rowOf);
  const table = new StreamingTable(headers, rows);
  if (rows.length > 0) for (const line of formatTable(headers, rows)) io.out(line);
  return table;
}

export async function getCommand(io: CliIO, kindsArg: string, name: string | undefined, opts: GetOptions): Promise<number> {
  const kinds = resolveKinds(kindsArg);
  const format: OutputFormat | undefined = parseOutputFormat(opts.output);
  if (!format) throw new CliError("InvalidArgument", `-o: unknown output format "${opts.output}" (use wide, yaml, json or name)`);
  if (name !== undefined && opts.allNamespaces) throw new CliError("InvalidArgument", "a resource cannot be retrieved by name across all namespaces (drop -A or the name)");
  if (name !== undefined && opts.selector !== undefined) throw new CliError("InvalidArgument", "-l selects from lists: drop the name or the selector");
  if (name !== undefined && opts.watch) throw new CliError("InvalidArgument", "-w follows whole lists: drop the name");

  const conn = connect(opts, io.env);
  const client = new ResourceClient(conn);
  const namespace = opts.allNamespaces ? undefined : conn.namespace;
  const fetched = await fetchObjects(client, kinds, namespace, name, opts.selector);
  for (const info of fetched.missing) io.err(`${info.plural}.${GROUP} "${name}" not found`);
  if (name !== undefined && fetched.objects.length === 0) return 1;

  const rowOpts = { wide: format === "wide", showNamespace: namespace === undefined, showKind: kinds.length > 1 };
  const headers = rowHeaders(rowOpts);
  let table: StreamingTable | undefined;
  if (format === "table" || format === "wide") {
    table = printTable(io, fetched.objects, headers, (o) => resourceRow(o, { ...rowOpts, nowMs: io.clock.now() }));
  } else if (!(opts.watch && fetched.objects.length === 0)) {
    printBlock(io.out, renderObjects(fetched.objects, format, name !== undefined));
  }
  if (fetched.objects.length === 0 && name === undefined && (format === "table" || format === "wide")) {
    io.err(namespace === undefined ? "No resources found" : `No resources found in ${namespace} namespace.`);
  }
  if (!opts.watch) return fetched.missing.length > 0 ? 1 : 0;

  const phaseColumn = headers.indexOf("PHASE");
  let headerPrinted = fetched.objects.length > 0;
  const onChange = (type: ChangeType, obj: ResourceObject): void => {
    if (table) {
      const row = resourceRow(obj, { ...rowOpts, nowMs: io.clock.now() });
      if (type === "DELETED") row[phaseColumn] = "Deleted";
      if (!headerPrinted) io.out(table.header());
      headerPrinted = true;
      io.out(table.row(row));
    } else if (format === "name") {
      io.out(nameOf(obj));
    } else if (format === "json") {
      printBlock(io.out, JSON.stringify(obj, null, 2));
    } else {
      printBlock(io.out, `---\n${stringify(obj)}`);
    }
  };
  await followChanges(io, conn, client, namespace, fetched.lists, onChange, opts.selector);
  return 0;
}
