#!/usr/bin/env node
// Launcher for the `zlh` CLI: the sources are TypeScript run through tsx, so there is no build step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../controller/src/cli/main.ts");
await main();
