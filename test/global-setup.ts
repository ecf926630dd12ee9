// Tests run the compiled CLI and agent exactly as users do, so every test run builds them
// from the current sources first (esbuild: well under a second).
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.mjs", "--quiet"], { stdio: "inherit" });
}
