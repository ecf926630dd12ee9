// Where the installed zlh checkout is, for files the server hands to workloads (the bundled
// agent). Found by walking up from this module, so it holds both for the TypeScript sources
// (tests) and for the bundle in dist/cli/ (what users run).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function projectRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "zlh") return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the zlh checkout (package.json) above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** The bundled agent (`npm run build` writes it). */
export function agentBundlePath(): string {
  return join(projectRoot(), "dist", "agent", "zlh-agent.mjs");
}
