// Marks each build folder with its module kind, so Node reads dist/esm as ESM and dist/cjs as CommonJS.
import { writeFileSync } from "node:fs";

writeFileSync("dist/esm/package.json", JSON.stringify({ type: "module" }) + "\n");
writeFileSync("dist/cjs/package.json", JSON.stringify({ type: "commonjs" }) + "\n");
