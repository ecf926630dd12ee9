import { describe, expect, it } from "vitest";
import { CliError } from "../../src/cli/cli-error.js";
import { collectionPath, kindInfo, resolveKinds, resourceRef } from "../../src/cli/kinds.js";

const kindsOf = (arg: string): string[] => resolveKinds(arg).map((k) => k.kind);

describe("resolveKinds", () => {
  it.each(["gameserver", "gameservers", "gs", "GameServer", "GS", "gameservers.zerolaghub.dev"])("resolves %j to GameServer", (word) => {
    expect(kindsOf(word)).toEqual(["GameServer"]);
  });

  it.each(["devenvironment", "devenvironments", "dev", "DevEnvironment"])("resolves %j to DevEnvironment", (word) => {
    expect(kindsOf(word)).toEqual(["DevEnvironment"]);
  });

  it("expands all to both kinds", () => {
    expect(kindsOf("all")).toEqual(["GameServer", "DevEnvironment"]);
  });

  it("keeps the order of a comma list and drops repeats", () => {
    expect(kindsOf("dev,gs,gameserver")).toEqual(["DevEnvironment", "GameServer"]);
  });

  it("rejects an unknown word naming the accepted spellings", () => {
    expect(() => resolveKinds("pods")).toThrow(CliError);
    expect(() => resolveKinds("gs,pods")).toThrow(/unknown resource type "pods": use gameserver\(s\), gs, devenvironment\(s\), dev, sync\(s\) or all/);
    expect(() => resolveKinds("gs,")).toThrow(/unknown resource type ""/);
  });
});

describe("resource names and paths", () => {
  it("names an object kubectl-style", () => {
    expect(resourceRef("GameServer", "mc1")).toBe("gameserver.zerolaghub.dev/mc1");
    expect(resourceRef("DevEnvironment", "d")).toBe("devenvironment.zerolaghub.dev/d");
  });

  it("builds namespaced and cluster-wide collection paths", () => {
    expect(collectionPath(kindInfo("GameServer"), "team-a")).toBe("/apis/zerolaghub.dev/v1alpha1/namespaces/team-a/gameservers");
    expect(collectionPath(kindInfo("DevEnvironment"), undefined)).toBe("/apis/zerolaghub.dev/v1alpha1/devenvironments");
  });
});
