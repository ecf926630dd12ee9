// `npm start` publishes the Node.js running it as the runtime `node`, so a DevEnvironment
// with `runtime: {name: node, version: "20"}` works on a fresh clone: an archive of
// <prefix>/bin/node (plus npm and npx with lib/node_modules/npm when they are there), under
// the exact version (20.19.0) and the major line (20). Built once per data directory and
// Node version; later starts find it in the catalog and skip the work.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { hostPlatform, readCatalog } from "./catalog-file.js";
import { publishArtifact } from "./publish.js";

const run = promisify(execFile);

export interface PublishedNode {
  versions: string[];
  built: boolean;
}

export async function publishRunningNode(dir: string, now: number): Promise<PublishedNode> {
  const exact = process.versions.node;
  const major = exact.split(".")[0]!;
  const versions = [exact, major];
  const platform = hostPlatform();
  const have = readCatalog(dir).artifacts.filter((a) => a.name === "node" && a.platform === platform && versions.includes(a.version) && existsSync(join(dir, a.file)));
  if (have.length === versions.length) return { versions, built: false };
  const prefix = dirname(dirname(process.execPath));
  const members = ["bin/node", "bin/npm", "bin/npx", "lib/node_modules/npm"].filter((m) => existsSync(join(prefix, m)));
  if (!members.includes("bin/node")) throw new Error(`cannot package the running Node: ${process.execPath} is not <prefix>/bin/node`);
  const build = join(dir, ".build");
  mkdirSync(build, { recursive: true });
  const archive = join(build, `node-v${exact}-${platform}.tar`);
  try {
    // Uncompressed: gzip would cost seconds of CPU on every fresh data directory for a
    // download that only ever crosses loopback.
    await run("tar", ["-cf", archive, "-C", prefix, ...members]);
    for (const version of versions) {
      await publishArtifact(dir, archive, { name: "node", version, platform, kind: "runtime", bin: ["bin"], channel: "stable", source: `built from the running Node ${process.execPath} (v${exact})`, now });
    }
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
  return { versions, built: true };
}
