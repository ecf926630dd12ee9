// `zlh server`: runs the embedded API server and controller until Ctrl-C or SIGTERM.
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
  const running = await runServer({ dataDir: opts.dataDir, listen: opts.listen, configPath: opts.config, logLevel: opts.logLevel });
  io.err(`zlh server at ${running.url} (kubeconfig ${running.kubeconfigPath}); Ctrl-C stops it`);
  if (!io.signal.aborted) await new Promise<void>((resolve) => io.signal.addEventListener("abort", () => resolve(), { once: true }));
  await running.close();
  return 0;
}
