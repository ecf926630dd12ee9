// npm run chaos [-- --kills 50 --creates 200 --updates 100 --deletes 200 --max-live 20 --seed S --json FILE]:
// kill -9 a real `zlh server` at seeded points during creates, updates and deletes,
// restart it, and compare every provider's state with the declared state (goal: all zeros).
import { parseArgs } from "node:util";
import { runChaos } from "./chaos-run.js";
import { log, printFigures, writeJson } from "./report.js";

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "50" }, creates: { type: "string", default: "200" }, updates: { type: "string" }, deletes: { type: "string", default: "200" },
    "max-live": { type: "string", default: "20" }, seed: { type: "string", default: "1" }, json: { type: "string" }, "bound-seconds": { type: "string" }, keep: { type: "boolean", default: false },
  },
});
function int(key: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${key}: expected a non-negative integer, got ${v}`);
  return n;
}
const creates = int("creates", values.creates);
const o = {
  kills: int("kills", values.kills), creates, updates: int("updates", values.updates ?? String(Math.ceil(creates / 2))), deletes: int("deletes", values.deletes),
  maxLive: Math.max(1, int("max-live", values["max-live"])), seed: int("seed", values.seed), keep: values.keep,
  boundSeconds: values["bound-seconds"] === undefined ? undefined : int("bound-seconds", values["bound-seconds"]),
};
const started = performance.now();
const f = await runChaos({ ...o, log: (m) => log("chaos", m) });
const { findings, ...figures } = f;
printFigures(`chaos: ${o.creates} creates, ${o.updates} updates, ${o.deletes} deletes, seed ${o.seed}, ${((performance.now() - started) / 1000).toFixed(1)} s`, figures);
for (const line of findings) console.log(`  finding: ${line}`);
writeJson(values.json, f);
if (f.orphans + f.duplicates + f.notConverged + f.lostUpdates > 0) process.exitCode = 1;
process.exit();
