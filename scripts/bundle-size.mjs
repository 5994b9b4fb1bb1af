// npm run size: what the store adds to a bundled application. Bundles a small handler that uses
// the functional store and the class, the way a Lambda deployment would (esbuild, ESM, platform
// node, minified, the AWS SDK external since the runtime provides it), from the built package
// (dist/) through its `exports`; then the same handler with the opt-in ensure step, whose
// control-plane code only such handlers carry. Fails when the first is over the goal, or when
// fp-ts or io-ts come in through their CommonJS files, which no bundler can tree-shake. Run
// after `npm run build`.
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { gzipSync } from "node:zlib";

/** The most the store may add to a handler that does not opt into the ensure step (issue 12). */
const GOAL = 50 * 1024;

/** A handler with both the functional store and the class, as a Lambda worker would hold them. */
const handler = ({ ensure }) => `
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDynamoDBSagaStore, DynamoDBSagaStore, ensureTableFirst, sendVia } from "@saga-bus/store-dynamodb";

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const functional = createDynamoDBSagaStore({ send: sendVia(client), tableName: "sagas" });
const store = new DynamoDBSagaStore({
  client,
  tableName: "sagas",
  ${ensure ? "ensureTable: ensureTableFirst(client, { ttl: true })," : ""}
});

export const handler = async ({ correlationId, sagaId }) => {
  const found = await functional.getByCorrelationId("OrderSaga", correlationId);
  if (found === null) return store.getById("OrderSaga", sagaId);
  await store.update("OrderSaga", found, found.metadata.version);
  return found;
};
`;

if (!existsSync("dist/esm/index.js")) {
  console.error("size: dist/esm is missing; run npm run build first");
  process.exit(1);
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

/** Bundles `contents`, prints its size by origin, and returns its minified bytes. */
const measure = async (label, contents) => {
  const result = await build({
    // Resolved from the project root, so "@saga-bus/store-dynamodb" is the package itself.
    stdin: { contents, resolveDir: process.cwd(), sourcefile: "handler.mjs", loader: "js" },
    bundle: true,
    format: "esm",
    platform: "node",
    minify: true,
    external: ["@aws-sdk/*"],
    // tsconfig.json maps the package name to src/ for type-checking; bundle the build instead.
    tsconfigRaw: {},
    write: false,
    metafile: true,
    logLevel: "warning",
  });

  const [output] = result.outputFiles;
  const bytes = output.contents.length;
  const gzipped = gzipSync(output.contents).length;
  const inputs = Object.values(result.metafile.outputs)[0].inputs;

  /** Bytes in the bundle by origin: the package's own build, or each dependency's folder. */
  const byOrigin = new Map();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+\/[^/]+)\//.exec(path);
    const origin = dependency ? dependency[1] : path.startsWith("dist/") ? "dist/esm" : path;
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + bytesInOutput);
  }

  console.log(`${label} (SDK external): ${kb(bytes)} minified, ${kb(gzipped)} gzip`);
  for (const [origin, size] of [...byOrigin].sort((a, b) => b[1] - a[1])) {
    if (size > 0) console.log(`  ${origin.padEnd(24)} ${kb(size).padStart(9)}`);
  }

  const commonJs = Object.keys(inputs).filter((path) =>
    /node_modules\/(fp-ts|io-ts)\/lib\//.test(path),
  );
  if (commonJs.length > 0) {
    console.error(`size: CommonJS files of fp-ts/io-ts in the bundle:\n  ${commonJs.join("\n  ")}`);
    process.exitCode = 1;
  }
  return { bytes, inputs };
};

const { bytes, inputs } = await measure("handler bundle", handler({ ensure: false }));
// The control plane comes in only with the ensure step: the store must not import it.
if (Object.keys(inputs).some((path) => path.endsWith("dist/esm/table.js"))) {
  console.error("size: table.js is in a bundle without ensureTableFirst");
  process.exitCode = 1;
}
await measure("with ensureTableFirst", handler({ ensure: true }));
if (bytes > GOAL) {
  console.error(`size: ${kb(bytes)} is over the goal of ${kb(GOAL)}`);
  process.exitCode = 1;
}
