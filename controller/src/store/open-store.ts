// Which Store the API server keeps its objects in: the SQLite file in the data directory
// (the default), or an etcd cluster (`zlh server --store etcd --etcd-endpoints …`).
// An etcd that cannot be reached at start is refused in one line, naming the endpoints.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EtcdStore } from "./etcd-store.js";
import { SqliteStore } from "./sqlite-store.js";
import type { Store } from "./store.js";

export interface EtcdStoreChoice {
  kind: "etcd";
  /** host:port of each member. */
  endpoints: string[];
  /** PEM files: the CA that signed etcd's certificate, and a client certificate and key for mutual TLS. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Key prefix (default /zlh/). */
  prefix?: string;
  /** Deadline of each etcd call (default 5000 ms). */
  callTimeoutMs?: number;
  /** Revisions kept before compacting (default 10000). */
  retainRevisions?: number;
}

export type StoreChoice = { kind: "sqlite" } | EtcdStoreChoice;

export interface SqliteSettings {
  dataDir: string;
  watchHistory?: number;
  maxPageCount?: number;
}

/** Thrown for a store that cannot be opened; its message is one line for the operator. */
export class StoreOpenError extends Error {
  override readonly name = "StoreOpenError";
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new StoreOpenError(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
}

export async function openStore(choice: StoreChoice | undefined, sqlite: SqliteSettings): Promise<Store> {
  if (!choice || choice.kind === "sqlite") return new SqliteStore({ path: join(sqlite.dataDir, "store.db"), watchHistory: sqlite.watchHistory, maxPageCount: sqlite.maxPageCount });
  return openEtcdStore(choice);
}

export async function openEtcdStore(choice: EtcdStoreChoice): Promise<EtcdStore> {
  const endpoints = choice.endpoints.map((e) => e.trim()).filter((e) => e !== "");
  if (endpoints.length === 0) throw new StoreOpenError("--etcd-endpoints: no endpoint given (host:port,…)");
  for (const e of endpoints) {
    if (!/^(\w+:\/\/)?[^\s/:,]+:\d{1,5}$/.test(e) && !/^(\w+:\/\/)?\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(e)) throw new StoreOpenError(`--etcd-endpoints: ${JSON.stringify(e)} is not host:port`);
  }
  if ((choice.certFile === undefined) !== (choice.keyFile === undefined)) throw new StoreOpenError("--etcd-cert and --etcd-key go together: give both or neither");
  if (choice.certFile !== undefined && choice.caFile === undefined) throw new StoreOpenError("--etcd-cert needs --etcd-ca (the CA that signed etcd's certificate)");
  const tls = choice.caFile === undefined ? undefined : {
    ca: readPem(choice.caFile, "--etcd-ca"),
    cert: choice.certFile === undefined ? undefined : readPem(choice.certFile, "--etcd-cert"),
    key: choice.keyFile === undefined ? undefined : readPem(choice.keyFile, "--etcd-key"),
  };
  const store = new EtcdStore({ endpoints, tls, prefix: choice.prefix, callTimeoutMs: choice.callTimeoutMs, retainRevisions: choice.retainRevisions });
  try {
    await store.resourceVersion();
  } catch (e) {
    await store.close();
    throw new StoreOpenError(`etcd at ${endpoints.join(",")} is unreachable: ${firstLine(e)}`);
  }
  return store;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}
