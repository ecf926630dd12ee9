#!/usr/bin/env node
// Launcher for the `zlh` CLI. What runs is the compiled JavaScript in dist/ (built by
// `npm run build`, which `npm ci` runs through `prepare`), never TypeScript at run time.
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli/main.mjs", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("zlh: dist/cli/main.mjs is missing; run `npm ci` (or `npm run build`) in the zlh checkout first\n");
  process.exit(2);
}
const { main } = await import(entry.href);
await main();
