// Finds the kubeconfig the CLI talks through and builds the client-node API objects from it.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { CliError } from "./cli-error.js";

export interface ConnectionOptions {
  kubeconfig?: string;
  dataDir?: string;
  namespace?: string;
}

export interface Connection {
  kubeconfigPath: string;
  /** The API server URL, for messages. */
  server: string;
  /** `-n`, else the kubeconfig context's namespace, else `default`. */
  namespace: string;
  kc: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
}

export const DEFAULT_DATA_DIR = ".zlh";

export function noServerHint(where: string): string {
  return `no zlh server at ${where}: start one with \`npm start\` (or \`zlh server\`)`;
}

/** `--kubeconfig`, else `$ZLH_KUBECONFIG`, else `<data-dir>/kubeconfig`. */
export function kubeconfigPath(opts: ConnectionOptions, env: NodeJS.ProcessEnv): string {
  return opts.kubeconfig ?? (env.ZLH_KUBECONFIG || join(opts.dataDir ?? DEFAULT_DATA_DIR, "kubeconfig"));
}

function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (e) {
    throw new CliError("InvalidArgument", `kubeconfig ${path} is not readable: ${(e as Error).message}`);
  }
  if (!kc.getCurrentCluster()) throw new CliError("InvalidArgument", `kubeconfig ${path} has no current context with a cluster`);
  return kc;
}

function contextNamespace(kc: KubeConfig): string | undefined {
  return kc.getContextObject(kc.getCurrentContext())?.namespace || undefined;
}

/**
 * The namespace documents without one land in. It must be known before validation,
 * which runs even when no server is up, so a missing kubeconfig is not an error here.
 */
export function defaultNamespace(opts: ConnectionOptions, env: NodeJS.ProcessEnv): string {
  if (opts.namespace) return opts.namespace;
  const path = kubeconfigPath(opts, env);
  if (!existsSync(path)) return "default";
  try {
    return contextNamespace(loadKubeConfig(path)) ?? "default";
  } catch {
    return "default";
  }
}

export function connect(opts: ConnectionOptions, env: NodeJS.ProcessEnv): Connection {
  const path = kubeconfigPath(opts, env);
  if (!existsSync(path)) throw new CliError("NoServer", noServerHint(`${path} (no kubeconfig there)`));
  const kc = loadKubeConfig(path);
  return {
    kubeconfigPath: path,
    server: kc.getCurrentCluster()!.server,
    namespace: opts.namespace || contextNamespace(kc) || "default",
    kc,
    custom: kc.makeApiClient(CustomObjectsApi),
    core: kc.makeApiClient(CoreV1Api),
  };
}
