// Temp directories and manifests shared by the CLI tests.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { FakeClock } from "../../src/engine/clock.js";
import type { CliIO } from "../../src/cli/cli-io.js";

export function tempDir(prefix = "zlh-cli-"): { dir: string; write(rel: string, text: string | Buffer): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(rel, text) {
      const path = join(dir, rel);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function gameServerYaml(name: string, extra = ""): string {
  return `apiVersion: zerolaghub.dev/v1alpha1
kind: GameServer
metadata:
  name: ${name}
spec:
  game: generic
  command: ["node", "server.js"]
  ports:
    - name: game
      port: 25565
${extra}`;
}

export function devEnvYaml(name: string): string {
  return `apiVersion: zerolaghub.dev/v1alpha1
kind: DevEnvironment
metadata:
  name: ${name}
spec:
  ports:
    - port: 3000
      expose: true
`;
}

export interface CapturedIO extends CliIO {
  stdout: string[];
  stderr: string[];
  abort(): void;
}

/** An IO that records lines; `clock` defaults to a FakeClock: pass realClock for waits against a live server. */
export function captureIO(opts: { env?: NodeJS.ProcessEnv; clock?: CliIO["clock"] } = {}): CapturedIO {
  const controller = new AbortController();
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
    env: opts.env ?? {},
    clock: opts.clock ?? new FakeClock(),
    signal: controller.signal,
    abort: () => controller.abort(),
  };
}
