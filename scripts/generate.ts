// npm run generate: writes schemas/generated/types.ts and manifests/crds/*.yaml.
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { renderTypes, renderCrds, root } from "./schema-artifacts.js";

mkdirSync(join(root, "schemas/generated"), { recursive: true });
writeFileSync(join(root, "schemas/generated/types.ts"), await renderTypes());
mkdirSync(join(root, "manifests/crds"), { recursive: true });
for (const [name, text] of renderCrds()) writeFileSync(join(root, "manifests/crds", name), text);
console.log("generated schemas/generated/types.ts and manifests/crds/");
