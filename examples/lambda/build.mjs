// Bundles the Lambda example (handler.ts) into one ES module file that runs with no
// node_modules beside it: the store, fp-ts, io-ts, @saga-bus/core and the AWS SDK all inside.
// The store comes from this package's build (dist/, through its "exports"), as it would from
// node_modules in an application: run `npm run build` first.
//
//   node examples/lambda/build.mjs [--outfile PATH] [--core DIR]
//
// --outfile  where to write the bundle (default examples/lambda/dist/handler.mjs)
// --core     a folder holding node_modules/@saga-bus/core, for where core is not installed
//            (this repository's tests pass the stand-in in test/fixtures/core-standin)
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");

const { values } = parseArgs({
  options: {
    outfile: { type: "string", default: join(HERE, "dist/handler.mjs") },
    core: { type: "string" },
  },
});

if (!existsSync(join(ROOT, "dist/esm/index.js"))) {
  console.error("examples/lambda: dist/ is missing; run npm run build first");
  process.exit(1);
}

const result = await build({
  entryPoints: [join(HERE, "handler.ts")],
  outfile: resolve(values.outfile),
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  minify: true,
  // ES module files first: the AWS SDK's and io-ts's tree-shake, their CommonJS files do not.
  mainFields: ["module", "main"],
  // The repository's tsconfig maps the package name to src/ for type-checking; the bundle
  // must take the built package instead, as an application's bundler does.
  tsconfigRaw: {},
  nodePaths: values.core === undefined ? [] : [join(resolve(values.core), "node_modules")],
  // CommonJS code in an ES module bundle still calls require() for Node's own modules.
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
  metafile: true,
  logLevel: "warning",
});

const [output] = Object.entries(result.metafile.outputs);
if (output !== undefined) {
  console.log(`${output[0]}: ${(output[1].bytes / 1024).toFixed(1)} KB`);
}
