// The `zlh` command line: argument parsing and wiring only; each command lives in its own file.
import { Command, CommanderError, Option } from "commander";
import { realClock } from "../engine/clock.js";
import { applyCommand } from "./apply.js";
import { isCliError } from "./cli-error.js";
import { printBlock, type CliIO } from "./cli-io.js";
import { DEFAULT_DATA_DIR } from "./connection.js";
import { deleteCommand } from "./delete.js";
import { describeCommand } from "./describe.js";
import { getCommand } from "./get.js";
import { serverCommand } from "./server.js";

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function withConnection(cmd: Command): Command {
  return cmd
    .option("--kubeconfig <path>", "kubeconfig to use (default: $ZLH_KUBECONFIG, else <data-dir>/kubeconfig)")
    .option("--data-dir <dir>", "data directory of the local zlh server", DEFAULT_DATA_DIR)
    .option("-n, --namespace <ns>", "namespace (default: the kubeconfig context's, else default)");
}

/** Builds the program; `run` receives each command's exit code. */
export function buildProgram(io: CliIO, run: (code: Promise<number>) => void): Command {
  const program = new Command("zlh")
    .description("Declarative control plane for game servers and dev environments")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: (s) => printBlock(io.out, s), writeErr: (s) => printBlock(io.err, s) })
    .exitOverride();

  program
    .command("server")
    .description("run the embedded API server and controller until Ctrl-C")
    .option("--data-dir <dir>", "where the database, kubeconfig and tokens live", DEFAULT_DATA_DIR)
    .option("--listen <host:port>", "API server address", "127.0.0.1:7443")
    .option("--config <file>", "controller config (YAML)")
    .option("--log-level <level>", "pino log level", "info")
    .action((o) => run(serverCommand(io, { dataDir: o.dataDir, listen: o.listen, config: o.config, logLevel: o.logLevel })));

  withConnection(program.command("apply"))
    .description("create or update resources from YAML/JSON files; nothing is applied if any document is invalid")
    .requiredOption("-f, --filename <path>", "file or directory (repeatable)", collect)
    .option("-R, --recursive", "descend into subdirectories of -f directories")
    .option("--dry-run", "validate and show what would change, change nothing")
    .option("--wait", "wait until every resource is Running")
    .option("--timeout <duration>", "how long --wait waits", "5m")
    .action((o) => run(applyCommand(io, o)));

  withConnection(program.command("get"))
    .description("list resources: KIND is gameserver(s)/gs, devenvironment(s)/dev, all, or a comma list")
    .argument("<kind>", "resource kind(s)")
    .argument("[name]", "one object")
    .addOption(new Option("-o, --output <format>", "output format").choices(["wide", "yaml", "json", "name"]))
    .option("-w, --watch", "after listing, print a row per change until Ctrl-C")
    .option("-A, --all-namespaces", "list across all namespaces")
    .option("-l, --selector <selector>", "only objects whose labels match, e.g. tier=gold,env!=dev")
    .action((kind: string, name: string | undefined, o) => run(getCommand(io, kind, name, o)));

  withConnection(program.command("describe"))
    .description("show one resource in detail, with its conditions and events")
    .argument("<kind>", "gameserver or devenvironment")
    .argument("<names...>", "object name(s)")
    .action((kind: string, names: string[], o) => run(describeCommand(io, kind, names, o)));

  withConnection(program.command("delete"))
    .description("delete resources by KIND NAME… or from files")
    .argument("[args...]", "KIND NAME…")
    .option("-f, --filename <path>", "file or directory (repeatable)", collect)
    .option("-R, --recursive", "descend into subdirectories of -f directories")
    .option("--wait", "wait until each object is gone")
    .option("--timeout <duration>", "how long --wait waits", "5m")
    .option("--ignore-not-found", "a missing object is not an error")
    .option("--all", "every object of the given kind(s) in the namespace (with -A: in every namespace)")
    .option("-A, --all-namespaces", "with --all: in every namespace")
    .action((args: string[], o) => run(deleteCommand(io, args, o)));

  registerArtifactCommands(program, io, run);

  return program;
}

// Each action imports its module when it runs: publishing, serving and listing load nothing
// the other commands need.
function registerArtifactCommands(program: Command, io: CliIO, run: (code: Promise<number>) => void): void {
  const artifacts = program.command("artifacts").description("publish, promote and serve the artifact catalog (runtimes, services)");
  const dirOption = (cmd: Command): Command =>
    cmd.option("--dir <dir>", "artifact directory (default <data-dir>/artifacts, the one `npm start` serves)").option("--data-dir <dir>", "data directory of the local zlh server", DEFAULT_DATA_DIR);
  dirOption(artifacts.command("publish"))
    .description("hash FILE (sha256, size), copy it into the artifact directory and add it to the catalog")
    .argument("<file>", "the archive (tar, tar.gz) or file")
    .requiredOption("--name <name>", "artifact name, e.g. node")
    .requiredOption("--version <version>", "version, e.g. 20.19.0")
    .option("--channel <channel>", "stable or beta", "beta")
    .option("--platform <platform>", "os-arch it runs on, or any (default: this machine's, e.g. linux-x64)")
    .option("--kind <kind>", "runtime, service or file", "runtime")
    .option("--bin <dir>", "for runtimes: directory in the archive to put on PATH (repeatable; default bin)", collect)
    .option("--source <text>", "provenance to record (default: the file's path)")
    .action((file: string, o) => run(import("./artifacts.js").then((m) => m.publishCommand(io, file, o))));
  dirOption(artifacts.command("promote"))
    .description("move NAME VERSION to another channel")
    .argument("<name>")
    .argument("<version>")
    .requiredOption("--channel <channel>", "stable or beta")
    .action((name: string, version: string, o) => run(import("./artifacts.js").then((m) => m.promoteCommand(io, name, version, o))));
  artifacts
    .command("serve")
    .description("serve DIR's catalog and the files it lists (each only while it matches its sha256)")
    .argument("<dir>", "artifact directory")
    .option("--listen <ip:port>", "address to listen on (port 0 picks a free one)", "127.0.0.1:7480")
    .option("--log-level <level>", "pino log level", "info")
    .action((dir: string, o) => run(import("./artifacts.js").then((m) => m.serveCommand(io, dir, o))));
  dirOption(program.command("catalog"))
    .description("list what can be installed: names, versions, channels, platforms")
    .option("--url <url>", "ask this artifact server instead of reading the directory")
    .addOption(new Option("-o, --output <format>", "output format").choices(["json"]))
    .action((o) => run(import("./artifacts.js").then((m) => m.catalogCommand(io, o))));
}

/** Runs `argv` (without node and script) and returns the exit code; never calls process.exit. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let pending: Promise<number> | undefined;
  const program = buildProgram(io, (p) => {
    pending = p;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    if (!pending) {
      // `zlh` alone: show help, as a usage error.
      program.outputHelp({ error: true });
      return 1;
    }
    return await pending;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    if (isCliError(e)) {
      printBlock(io.err, `error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

/** Entry point for bin/zlh.mjs: real streams, real clock, Ctrl-C aborts the running command. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    // A second Ctrl-C means "stop now", even if a graceful close hangs.
    if (++interrupts > 1) process.exit(130);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // `zlh get -o yaml | head`: the reader is gone and nothing more can be said, so stop
  // quietly as a SIGPIPE'd program would (Node ignores SIGPIPE and would print a stack).
  const onStreamError = (e: NodeJS.ErrnoException): void => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  };
  process.stdout.on("error", onStreamError);
  process.stderr.on("error", onStreamError);
  const io: CliIO = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    clock: realClock,
    signal: controller.signal,
  };
  try {
    process.exitCode = await runCli(argv, io);
  } catch (e) {
    process.stderr.write(`zlh: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
}
