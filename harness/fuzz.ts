// npm run fuzz [-- --cases 2000 --seed S --json FILE]: generated malformed documents and
// requests against `zlh apply` and the raw API; prints what got through (goal: all zeros).
import { parseArgs } from "node:util";
import { runFuzz } from "./fuzz-run.js";
import { log, printFigures, writeJson } from "./report.js";

const { values } = parseArgs({
  options: { cases: { type: "string", default: "2000" }, seed: { type: "string", default: "1" }, json: { type: "string" }, "timeout-ms": { type: "string", default: "30000" } },
});
const cases = Number(values.cases);
const seed = Number(values.seed);
if (!Number.isInteger(cases) || cases < 1) throw new Error(`--cases: expected a positive integer, got ${values.cases}`);
if (!Number.isInteger(seed)) throw new Error(`--seed: expected an integer, got ${values.seed}`);
const started = performance.now();
const f = await runFuzz({ cases, seed, timeoutMs: Number(values["timeout-ms"]), log: (m) => log("fuzz", m) });
const { findings, ...figures } = f;
printFigures(`fuzz: ${cases} cases, seed ${seed}, ${((performance.now() - started) / 1000).toFixed(1)} s`, figures);
for (const line of findings) console.log(`  finding: ${line}`);
writeJson(values.json, f);
const bad = f.acceptedBad + f.status5xx + f.hangs + f.storeChanges + f.filesWritten + f.applyCrashes;
if (bad > 0) process.exitCode = 1;
process.exit();
