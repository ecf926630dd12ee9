#!/usr/bin/env node
// `npm run build` (also run by `npm ci` through `prepare`): compiles what users run into
// plain JavaScript, so nothing is compiled at run time.
//   dist/cli/      the `zlh` command and the embedded server (bin/zlh.mjs loads it); its
//                  npm dependencies stay in node_modules, commands load lazily (code splitting).
//   dist/agent/    zlh-agent.mjs: one self-contained file that runs on plain Node 20 without
//                  the project's node_modules (only native addons stay outside the bundle).
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { rmSync } from "node:fs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const quiet = process.argv.includes("--quiet");
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: "linked",
  logLevel: quiet ? "warning" : "info",
  legalComments: "none",
};

// ESM bundles that contain CommonJS code need require(); give every output one.
const requireShim = "import { createRequire as __zlhCreateRequire } from 'node:module'; const require = __zlhCreateRequire(import.meta.url);";

rmSync(join(root, "dist"), { recursive: true, force: true });
await Promise.all([
  build({
    ...common,
    entryPoints: { main: "controller/src/cli/main.ts" },
    outdir: "dist/cli",
    splitting: true,
    packages: "external",
    outExtension: { ".js": ".mjs" },
  }),
  build({
    ...common,
    entryPoints: { "zlh-agent": "agent/src/main.ts" },
    outdir: "dist/agent",
    outExtension: { ".js": ".mjs" },
    // Native addons cannot be bundled; they are shipped beside the agent.
    external: ["node-pty"],
    banner: { js: requireShim },
  }),
]);
