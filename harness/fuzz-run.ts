// Runs the fuzz cases against a real API server (127.0.0.1:0, its own data directory) and
// the in-process `zlh apply`, and counts what a correct system never does: accept a bad
// case, answer 5xx, hang, change the store, or write a file.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { startApiServer, type RunningApiServer } from "../controller/src/api/server.js";
import { applyCommand } from "../controller/src/cli/apply.js";
import { isCliError } from "../controller/src/cli/cli-error.js";
import { realClock } from "../controller/src/engine/clock.js";
import { CANARY } from "./fuzz-values.js";
import { CATEGORIES, GROUP_PATH, KEEP, fuzzCase, gameServer, gsPath, type ApiCase, type ApplyCase, type FuzzCase } from "./fuzz-cases.js";
import { rawRequest } from "./raw-http.js";
import { Rng } from "./rng.js";

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** A case unanswered after this long is a hang (default 30 s). */
  timeoutMs?: number;
  log?: (msg: string) => void;
}

export interface FuzzFigures {
  cases: number;
  seed: number;
  apiCases: number;
  applyCases: number;
  acceptedBad: number;
  status4xx: number;
  status5xx: number;
  hangs: number;
  storeChanges: number;
  filesWritten: number;
  /** `zlh apply` refusals (exit 1) and ones that threw something other than a CliError (a bug). */
  applyRefused: number;
  applyCrashes: number;
  /** `zlh apply` refusals whose message does not name the file. */
  applyErrorsWithoutFile: number;
  acceptedByCategory: Record<string, number>;
  /** Up to 20 descriptions of cases that went wrong, to reproduce them. */
  findings: string[];
}

interface Ctx {
  api: RunningApiServer;
  timeoutMs: number;
  inputs: string;
}

// Everything a client could see change: our kinds, Events and Leases, with resourceVersions.
async function storeSnapshot(c: Ctx): Promise<string> {
  const paths = [`${GROUP_PATH}/gameservers`, `${GROUP_PATH}/devenvironments`, "/api/v1/events", "/apis/coordination.k8s.io/v1/leases"];
  const parts = await Promise.all(paths.map(async (p) => {
    const r = await rawRequest(c.api.url, c.api.token, "GET", p, undefined, undefined, c.timeoutMs);
    if (r.status !== 200) throw new Error(`snapshot ${p}: ${r.status} ${r.error ?? r.text.slice(0, 200)}`);
    return JSON.stringify((JSON.parse(r.text) as { items: unknown[] }).items);
  }));
  return parts.join("\n");
}

/** Files under `dir` with size and mtime, except the store (covered by the snapshot) and the fuzzer's own inputs. */
function fileState(dir: string, skip: string, out = new Map<string, string>()): Map<string, string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (p === skip || e.name.startsWith("store.db")) continue;
    if (e.isDirectory()) fileState(p, skip, out);
    else {
      const s = statSync(p);
      out.set(p, `${s.size}:${s.mtimeMs}`);
    }
  }
  return out;
}

function canaries(dir: string, depth = 2): string[] {
  const found: string[] = [];
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const e of entries) {
    if (e.name.includes(CANARY)) found.push(join(dir, e.name));
    else if (e.isDirectory() && depth > 0) found.push(...canaries(join(dir, e.name), depth - 1));
  }
  return found;
}

type Outcome = { accepted: boolean; status: number; hang: boolean; note: string };

async function runApiCase(c: Ctx, k: ApiCase): Promise<Outcome> {
  const r = await rawRequest(c.api.url, c.api.token, k.method, k.path, k.body, k.contentType, c.timeoutMs);
  return { accepted: r.status >= 200 && r.status < 300, status: r.status, hang: r.timedOut, note: `${k.method} ${k.path.slice(0, 120)} → ${r.status} ${r.text.slice(0, 160)}` };
}

async function runApplyCase(c: Ctx, k: ApplyCase, i: number, f: FuzzFigures): Promise<Outcome> {
  const file = join(c.inputs, `case-${i}.yaml`);
  writeFileSync(file, k.text);
  const err: string[] = [];
  const io = { out: () => {}, err: (l: string) => void err.push(l), env: {}, clock: realClock, signal: new AbortController().signal };
  const run = applyCommand(io, { filename: [file], kubeconfig: c.api.kubeconfigPath }).then(
    (code) => ({ code, crash: undefined as unknown }),
    (e: unknown) => ({ code: 1, crash: isCliError(e) ? undefined : e }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"hang">((r) => (timer = setTimeout(() => r("hang"), c.timeoutMs)));
  const result = await Promise.race([run, timeout]);
  clearTimeout(timer);
  rmSync(file, { force: true });
  if (result === "hang") return { accepted: false, status: 0, hang: true, note: `apply case-${i}: no answer` };
  if (result.crash !== undefined) {
    f.applyCrashes++;
    return { accepted: false, status: 0, hang: false, note: `apply case-${i} threw: ${String(result.crash).slice(0, 200)}` };
  }
  if (result.code !== 0) {
    f.applyRefused++;
    if (!err.some((l) => l.includes(file))) {
      f.applyErrorsWithoutFile++;
      if (process.env.ZLH_FUZZ_DEBUG) process.stderr.write(`no file in: ${err.join(" | ").slice(0, 300)}\n`);
    }
  }
  return { accepted: result.code === 0, status: 0, hang: false, note: `apply ${k.category} case-${i} → exit ${result.code}: ${err.join(" | ").slice(0, 200)}` };
}

async function serverFiveXx(c: Ctx): Promise<number> {
  const r = await rawRequest(c.api.url, c.api.token, "GET", "/metrics", undefined, undefined, c.timeoutMs);
  let n = 0;
  for (const m of r.text.matchAll(/^zlh_apiserver_requests_total\{[^}]*code="5\d\d"[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

function record(f: FuzzFigures, k: FuzzCase, o: Outcome, storeChanged: boolean): void {
  if (o.hang) f.hangs++;
  if (o.accepted) f.acceptedByCategory[k.category] = (f.acceptedByCategory[k.category] ?? 0) + 1;
  if (o.accepted) f.acceptedBad++;
  if (o.status >= 400 && o.status < 500) f.status4xx++;
  if (o.status >= 500) f.status5xx++;
  if (storeChanged) f.storeChanges++;
  const bad = o.hang || o.accepted || o.status >= 500 || storeChanged || o.note.includes(" threw: ");
  if (bad && f.findings.length < 20) f.findings.push(`[${k.category}]${storeChanged ? " (store changed)" : ""} ${o.note}`);
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzFigures> {
  const root = mkdtempSync(join(tmpdir(), "zlh-fuzz-"));
  const inputs = join(root, "inputs");
  mkdirSync(inputs);
  const api = await startApiServer({ dataDir: join(root, "data"), listen: "127.0.0.1:0", logger: pino({ level: "silent" }) });
  const c: Ctx = { api, timeoutMs: opts.timeoutMs ?? 30_000, inputs };
  const f: FuzzFigures = {
    cases: opts.cases, seed: opts.seed, apiCases: 0, applyCases: 0, acceptedBad: 0, status4xx: 0, status5xx: 0, hangs: 0,
    storeChanges: 0, filesWritten: 0, applyRefused: 0, applyCrashes: 0, applyErrorsWithoutFile: 0, acceptedByCategory: Object.fromEntries(CATEGORIES.map((k) => [k, 0])), findings: [],
  };
  try {
    for (const name of KEEP) {
      const r = await rawRequest(api.url, api.token, "POST", gsPath(), JSON.stringify(gameServer(name)), undefined, c.timeoutMs);
      if (r.status !== 201) throw new Error(`seeding ${name}: ${r.status} ${r.text}`);
    }
    const filesBefore = fileState(root, inputs);
    const canariesBefore = new Set(canaries(tmpdir()));
    let before = await storeSnapshot(c);
    const rng = new Rng(opts.seed);
    for (let i = 0; i < opts.cases; i++) {
      const k = fuzzCase(rng, i);
      const o = k.target === "api" ? await runApiCase(c, k) : await runApplyCase(c, k, i, f);
      if (k.target === "api") f.apiCases++;
      else f.applyCases++;
      const after = await storeSnapshot(c);
      record(f, k, o, after !== before);
      before = after;
      if ((i + 1) % 200 === 0) opts.log?.(`${i + 1}/${opts.cases} cases, ${f.acceptedBad} accepted, ${f.storeChanges} store changes`);
    }
    f.status5xx = Math.max(f.status5xx, await serverFiveXx(c));
    const filesAfter = fileState(root, inputs);
    for (const [p, s] of filesAfter) if (filesBefore.get(p) !== s) f.filesWritten++;
    const newCanaries = canaries(tmpdir()).filter((p) => !canariesBefore.has(p));
    f.filesWritten += newCanaries.length;
    for (const p of newCanaries) if (f.findings.length < 20) f.findings.push(`file written by a traversal: ${p}`);
  } finally {
    await api.close();
    rmSync(root, { recursive: true, force: true });
  }
  return f;
}
