// `zlh server`: runs the embedded API server and controller until Ctrl-C or SIGTERM.
import { CliError } from "./cli-error.js";
import type { CliIO } from "./cli-io.js";
import type { StoreChoice } from "../store/open-store.js";

export interface ServerOptions {
  dataDir: string;
  listen: string;
  config?: string;
  logLevel?: string;
  store?: string;
  etcd?: EtcdFlags;
}

/** The --etcd-* flags as given. */
export interface EtcdFlags {
  endpoints?: string;
  ca?: string;
  cert?: string;
  key?: string;
  prefix?: string;
}

/** The store the flags choose; a flag that makes no sense is refused in one line naming it. */
export function storeFromFlags(store: string | undefined, etcd: EtcdFlags = {}): StoreChoice {
  const given = (["endpoints", "ca", "cert", "key"] as const).filter((k) => etcd[k] !== undefined);
  if (store !== "etcd") {
    if (given.length > 0) throw new CliError("InvalidArgument", `--etcd-${given[0]} needs --store etcd`);
    return { kind: "sqlite" };
  }
  if (etcd.endpoints === undefined || etcd.endpoints.trim() === "") throw new CliError("InvalidArgument", "--store etcd needs --etcd-endpoints host:port[,host:port…]");
  return {
    kind: "etcd",
    endpoints: etcd.endpoints.split(","),
    caFile: etcd.ca,
    certFile: etcd.cert,
    keyFile: etcd.key,
    prefix: etcd.prefix,
  };
}

export async function serverCommand(io: CliIO, opts: ServerOptions): Promise<number> {
  // Imported lazily: the server pulls in SQLite and express, which the client commands never need.
  const { runServer } = await import("../server-main.js");
  const store = storeFromFlags(opts.store, opts.etcd);
  let running;
  try {
    running = await runServer({ dataDir: opts.dataDir, listen: opts.listen, configPath: opts.config, logLevel: opts.logLevel, store });
  } catch (err) {
    throw new CliError("ServerError", startFailure(err, opts.listen));
  }
  io.err(`zlh server at ${running.httpsUrl} (kubeconfig ${running.kubeconfigPath}); Ctrl-C stops it`);
  if (!io.signal.aborted) await new Promise<void>((resolve) => io.signal.addEventListener("abort", () => resolve(), { once: true }));
  await running.close();
  return 0;
}

function startFailure(err: unknown, listen: string): string {
  if (err instanceof Error && err.name === "StoreOpenError") return `cannot start the server: ${err.message}`;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return `cannot listen on ${listen}: the address is in use (is another zlh server running? use --listen 127.0.0.1:<port> or --data-dir)`;
  if (code === "EACCES") return `cannot listen on ${listen}: permission denied`;
  return `cannot start the server: ${err instanceof Error ? err.message : String(err)}`;
}
