// `zlh server`: runs the embedded API server and controller until Ctrl-C or SIGTERM.
import { CliError } from "./cli-error.js";
import type { CliIO } from "./cli-io.js";

export interface ServerOptions {
  dataDir: string;
  listen: string;
  config?: string;
  logLevel?: string;
}

export async function serverCommand(io: CliIO, opts: ServerOptions): Promise<number> {
  // Imported lazily: the server pulls in SQLite and express, which the client commands never need.
  const { runServer } = await import("../server-main.js");
  let running;
  try {
    running = await runServer({ dataDir: opts.dataDir, listen: opts.listen, configPath: opts.config, logLevel: opts.logLevel });
  } catch (err) {
    throw new CliError("ServerError", startFailure(err, opts.listen));
  }
  io.err(`zlh server at ${running.httpsUrl} (kubeconfig ${running.kubeconfigPath}); Ctrl-C stops it`);
  if (!io.signal.aborted) await new Promise<void>((resolve) => io.signal.addEventListener("abort", () => resolve(), { once: true }));
  await running.close();
  return 0;
}

function startFailure(err: unknown, listen: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return `cannot listen on ${listen}: the address is in use (is another zlh server running? use --listen 127.0.0.1:<port> or --data-dir)`;
  if (code === "EACCES") return `cannot listen on ${listen}: permission denied`;
  return `cannot start the server: ${err instanceof Error ? err.message : String(err)}`;
}
