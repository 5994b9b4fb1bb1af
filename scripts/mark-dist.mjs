// Finishes `tsc`'s output:
//
// 1. Marks each build folder with its module kind, so Node reads dist/esm as ESM and dist/cjs as
//    CommonJS whatever the root package.json says.
// 2. Points the ESM build's fp-ts and io-ts imports at their ES module files, for bundlers only.
//    The sources import `fp-ts/lib/*.js` and `io-ts`, which are CommonJS: no bundler can drop
//    their unused parts. Their `es6/` files are ES modules, but Node cannot load them (the
//    packages declare no "type" and the files import `./Either` without an extension), so the
//    ESM build imports `#fp-ts/*` and `#io-ts` instead, which dist/esm/package.json maps by
//    condition: "module" (set by esbuild, webpack, Rollup and Vite, never by Node) to `es6/`,
//    anything else to the CommonJS files Node has always loaded. Done here rather than in the
//    sources so tsc, ts-jest, tsx and the CommonJS build keep plain package paths.
//
// Node, like the bundlers, looks `#…` imports up in the nearest package.json (the "package
// scope" of its resolution algorithm), which for dist/esm is its marker. publint warns about
// "imports" in a nested package.json as if Node ignored it; see scripts/lint-package.mjs.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ESM = "dist/esm";
const CJS = "dist/cjs";

/** Subpath imports of the ESM build: ES module files for bundlers, CommonJS ones for Node. */
const IMPORTS = {
  "#fp-ts/*": { module: "fp-ts/es6/*", default: "fp-ts/lib/*" },
  "#io-ts": { module: "io-ts/es6/index.js", default: "io-ts" },
};

/** What each import of the ESM build becomes; `null`: an import that must not be left as it is. */
const rewrite = (specifier) => {
  const lib = /^fp-ts\/lib\/([\w-]+\.js)$/.exec(specifier);
  if (lib) return `#fp-ts/${lib[1]}`;
  if (specifier === "io-ts") return "#io-ts";
  if (/^(fp-ts|io-ts)(\/|$)/.test(specifier)) return null;
  return specifier;
};

const jsFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return jsFiles(path);
    return entry.name.endsWith(".js") ? [path] : [];
  });

// tsc writes static imports and re-exports as `from "…"` and dynamic ones as `import("…")`.
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)"([^"]+)"/g;

const unmapped = [];
for (const file of jsFiles(ESM)) {
  const source = readFileSync(file, "utf8");
  const output = source.replace(SPECIFIER, (whole, lead, specifier) => {
    const target = rewrite(specifier);
    if (target === null) {
      unmapped.push(`${file}: ${specifier}`);
      return whole;
    }
    return `${lead}"${target}"`;
  });
  if (output !== source) writeFileSync(file, output);
}
if (unmapped.length > 0) {
  // A new fp-ts or io-ts path would otherwise reach users as an untreeshakeable CommonJS import.
  console.error(`mark-dist: no ES module mapping for:\n  ${unmapped.join("\n  ")}`);
  process.exit(1);
}

// Bundlers read "sideEffects" from the nearest package.json too, so the markers repeat the
// root's "sideEffects": false (unused modules are dropped).
const marker = (fields) => JSON.stringify({ ...fields, sideEffects: false }) + "\n";
writeFileSync(join(ESM, "package.json"), marker({ type: "module", imports: IMPORTS }));
writeFileSync(join(CJS, "package.json"), marker({ type: "commonjs" }));
