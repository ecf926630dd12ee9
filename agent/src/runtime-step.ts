// The runtime installer step (DevEnvironment `spec.runtime`). The controller resolves the
// runtime against its catalog and hands the agent the artifact (URL, sha256, size, bin) with
// the spec; this step downloads and verifies it before extracting, switches `current`
// atomically, keeps `previous` for rollback (going back is a symlink swap, no download),
// removes what the spec no longer wants and regenerates the profile.
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type { AgentSpec } from "./controller-client.js";
import type { ProvisioningStep, StepContext, StepOutput } from "./provisioning.js";
import { ProvisioningError } from "./provisioning.js";
import { downloadVerified } from "./runtime-download.js";
import { writeProfile } from "./runtime-profile.js";
import { activate, extractVersion, partFile, pruneRuntimes, readMetadata, recoverRuntimes, runtimePaths } from "./runtime-store.js";
import { AGENT_VERSION } from "./version.js";

/** What the controller sends in `artifacts.runtime` of the spec. */
export interface RuntimeArtifact {
  name: string;
  version: string;
  url: string;
  sha256: string;
  size: number;
  bin: string[];
}

const SAFE_REL = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._/+-]{1,255}$/;
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/** The artifact, checked: its name, version and bin directories become paths under the root. */
export function checkArtifact(a: unknown): RuntimeArtifact {
  const x = a as Partial<RuntimeArtifact> | undefined;
  const bad = (why: string) => new ProvisioningError("runtime", `the controller sent an invalid runtime artifact: ${why}`);
  if (typeof x !== "object" || x === null) throw bad("not an object");
  if (typeof x.name !== "string" || !NAME.test(x.name)) throw bad("name");
  if (typeof x.version !== "string" || !VERSION.test(x.version)) throw bad("version");
  if (typeof x.url !== "string" || !/^https?:\/\//.test(x.url)) throw bad("url must be http(s)");
  if (typeof x.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(x.sha256)) throw bad("sha256");
  if (!Number.isSafeInteger(x.size) || (x.size as number) < 0) throw bad("size");
  if (!Array.isArray(x.bin) || !x.bin.every((b) => typeof b === "string" && SAFE_REL.test(b))) throw bad("bin");
  return x as RuntimeArtifact;
}

function mib(n: number): string {
  return `${Math.round(n / 1024 / 1024)}`;
}

async function ensureInstalled(ctx: StepContext, a: RuntimeArtifact): Promise<boolean> {
  const root = ctx.env.root;
  const have = readMetadata(runtimePaths(root, a.name).version(a.version));
  if (have && have.sha256 === a.sha256) return false;
  const part = partFile(root, a.sha256);
  pruneRuntimes(root, a.name, part);
  ctx.progress(`downloading ${a.name} ${a.version} (0/${mib(a.size)} MiB)`);
  mkdirSync(dirname(part), { recursive: true });
  await downloadVerified(a, part, { signal: ctx.signal, onProgress: (done, total) => ctx.progress(`downloading ${a.name} ${a.version} (${mib(done)}/${mib(total)} MiB)`) });
  ctx.progress(`extracting ${a.name} ${a.version}`);
  await extractVersion(
    root,
    part,
    { name: a.name, version: a.version, source: a.url, sha256: a.sha256, size: a.size, installed: new Date(ctx.clock.now()).toISOString(), agentVersion: AGENT_VERSION, bin: a.bin },
    ctx.signal,
  );
  rmSync(part, { force: true });
  return true;
}

export interface RuntimeStepState {
  recovered: boolean;
}

export function runtimeStep(): ProvisioningStep {
  const state: RuntimeStepState = { recovered: false };
  return {
    name: "runtime",
    appliesTo: (spec: AgentSpec) => spec.kind === "DevEnvironment",
    async run(ctx: StepContext): Promise<StepOutput> {
      if (ctx.spec.kind !== "DevEnvironment") return {};
      const root = ctx.env.root;
      if (!state.recovered) {
        const cleaned = recoverRuntimes(root);
        if (cleaned.length > 0) ctx.logger.info({ cleaned }, "cleared an interrupted runtime install");
        state.recovered = true;
      }
      const wanted = ctx.spec.spec.runtime;
      if (!wanted) {
        const removed = pruneRuntimes(root, undefined);
        if (removed.length > 0) ctx.logger.info({ removed }, "removed runtimes the spec no longer names");
        writeProfile(root, []);
        return {};
      }
      const sent = ctx.spec.artifacts;
      if (sent?.runtimeError) throw new ProvisioningError("runtime", `runtime ${wanted.name} ${wanted.version}: ${sent.runtimeError}`);
      const a = checkArtifact(sent?.runtime);
      if (a.name !== wanted.name || a.version !== wanted.version) throw new ProvisioningError("runtime", `the controller sent ${a.name} ${a.version} for runtime ${wanted.name} ${wanted.version}`);
      const fresh = await ensureInstalled(ctx, a);
      const { previous } = activate(root, a.name, a.version);
      const removed = pruneRuntimes(root, a.name);
      const current = runtimePaths(root, a.name).current;
      const bins = a.bin.map((b) => join(current, b));
      writeProfile(root, bins);
      ctx.logger.info({ runtime: a.name, version: a.version, sha256: a.sha256, fresh, previous, removed }, "runtime active");
      return { path: bins, inputs: { [`runtime/${a.name}`]: `${a.version} sha256:${a.sha256}` }, note: `runtime ${a.name} ${a.version} active` };
    },
  };
}
