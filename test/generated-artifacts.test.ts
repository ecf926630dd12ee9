import { describe, it, expect } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { renderTypes, renderCrds, root } from "../scripts/schema-artifacts.js";

describe("generated artifacts", () => {
  it("schemas/generated/types.ts matches what npm run generate produces", async () => {
    const onDisk = readFileSync(join(root, "schemas/generated/types.ts"), "utf8");
    expect(onDisk, "run `npm run generate` and commit the result").toBe(await renderTypes());
  });

  it("manifests/crds match what npm run generate produces", () => {
    const rendered = renderCrds();
    const onDisk = readdirSync(join(root, "manifests/crds")).filter((f) => f.endsWith(".yaml")).sort();
    expect(onDisk).toEqual([...rendered.keys()].sort());
    for (const [name, text] of rendered) {
      expect(readFileSync(join(root, "manifests/crds", name), "utf8"), name).toBe(text);
    }
  });

  it("every CRD is a structural apiextensions.k8s.io/v1 schema (no refs, no additionalProperties beside properties)", () => {
    for (const text of renderCrds().values()) {
      const crd = parse(text);
      expect(crd.apiVersion).toBe("apiextensions.k8s.io/v1");
      expect(crd.kind).toBe("CustomResourceDefinition");
      const json = JSON.stringify(crd);
      expect(json).not.toContain("$ref");
      expect(json).not.toContain("propertyNames");
      const walk = (n: unknown): void => {
        if (!n || typeof n !== "object") return;
        const o = n as Record<string, unknown>;
        if (o.properties) expect(o.additionalProperties, "additionalProperties next to properties").toBeUndefined();
        Object.values(o).forEach(walk);
      };
      walk(crd.spec.versions[0].schema.openAPIV3Schema);
      expect(crd.spec.versions[0].subresources).toEqual({ status: {} });
    }
  });
});
