// The lxc-* commands the provider runs, always with its own lxcpath (-P), so containers of
// the host's other LXC users are never listed or touched. Failures become ProviderErrors
// carrying the command's last stderr lines.
import { execFile } from "node:child_process";
import { ProviderError } from "../provider-error.js";

export interface LxcState {
  name: string;
  running: boolean;
  /** PID of the container's init (the agent) while it runs. */
  pid?: number;
}

export interface LxcCliOptions {
  lxcpath: string;
  /** Directory of the lxc-* binaries; default: found on PATH. */
  binDir?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class LxcCli {
  constructor(private readonly o: LxcCliOptions) {}

  /** Every container under the lxcpath with its state: one `lxc-ls` call. */
  async list(): Promise<LxcState[]> {
    const { stdout } = await this.run("lxc-ls", ["-P", this.o.lxcpath, "--fancy", "--fancy-format", "NAME,STATE,PID"]);
    const found: LxcState[] = [];
    for (const line of stdout.split("\n").slice(1)) {
      const [name, state, pid] = line.trim().split(/\s+/);
      if (!name) continue;
      const s: LxcState = { name, running: state === "RUNNING" };
      if (pid && /^[0-9]+$/.test(pid)) s.pid = Number(pid);
      found.push(s);
    }
    return found;
  }

  async create(name: string, configFile: string): Promise<void> {
    // No template: the rootfs named in the config already exists (the cached image).
    await this.run("lxc-create", ["-P", this.o.lxcpath, "-n", name, "-t", "none", "-f", configFile]);
  }

  async start(name: string, logFile: string): Promise<void> {
    await this.run("lxc-start", ["-P", this.o.lxcpath, "-n", name, "-d", "-o", logFile, "-l", "INFO"]);
  }

  /** Waits until RUNNING (or STOPPED: the agent exited at once). */
  async waitRunning(name: string, timeoutSeconds: number): Promise<void> {
    await this.run("lxc-wait", ["-P", this.o.lxcpath, "-n", name, "-s", "RUNNING|STOPPED", "-t", String(timeoutSeconds)]);
  }

  /** SIGTERM to the agent, SIGKILL after `timeoutSeconds`. A stopped container is fine. */
  async stop(name: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.run("lxc-stop", ["-P", this.o.lxcpath, "-n", name, "-t", String(timeoutSeconds)]);
    } catch (err) {
      if (/is not running/.test((err as Error).message)) return;
      throw err;
    }
  }

  async destroy(name: string): Promise<void> {
    await this.run("lxc-destroy", ["-P", this.o.lxcpath, "-n", name]);
  }

  /** Sets a cgroup value of a running container (a limit change without a restart). */
  async setCgroup(name: string, key: string, value: string): Promise<void> {
    await this.run("lxc-cgroup", ["-P", this.o.lxcpath, "-n", name, key, value]);
  }

  async attach(name: string, argv: readonly string[]): Promise<RunResult> {
    return this.run("lxc-attach", ["-P", this.o.lxcpath, "-n", name, "--clear-env", "--", ...argv]);
  }

  run(command: string, args: readonly string[]): Promise<RunResult> {
    const bin = this.o.binDir ? `${this.o.binDir}/${command}` : command;
    return new Promise((resolve, reject) => {
      execFile(bin, args, { encoding: "utf8", maxBuffer: 4 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        const tail = stderr.trim().split("\n").slice(-3).join(" | ") || err.message;
        reject(new ProviderError("Unavailable", `${command} ${args.join(" ")}: ${tail}`, { cause: err }));
      });
    });
  }
}
