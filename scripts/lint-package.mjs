// npm run lint:package: publint (strict: every suggestion and warning fails) on the packed
// package, then attw (`@arethetypeswrong/cli --pack`). Run after `npm run build`.
//
// One publint warning is known to be wrong and is the only one let through:
// NESTED_PACKAGE_JSON_FIELD_IGNORED for the "imports" of dist/esm/package.json (see
// scripts/mark-dist.mjs). publint applies to "imports" what holds for "exports": Node reads
// "exports" only from a package's root, but resolves `#…` imports against the nearest
// package.json of the importing file (LOOKUP_PACKAGE_SCOPE in Node's ESM resolution
// algorithm, the lookup that gives "type" its meaning too), as esbuild, webpack and Rollup do.
// test/unit/core-detection.test.ts runs the ESM build under Node, through those imports.
import { execFileSync } from "node:child_process";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

const isKnownFalsePositive = (message) =>
  message.code === "NESTED_PACKAGE_JSON_FIELD_IGNORED" &&
  message.args.field === "imports" &&
  message.args.filePath === "./dist/esm/package.json";

const { messages, pkg } = await publint({ pkgDir: process.cwd(), pack: "npm", strict: true });
const problems = messages.filter((message) => !isKnownFalsePositive(message));
for (const message of problems) {
  console.error(`publint ${message.type}: ${formatMessage(message, pkg, { color: false })}`);
}
if (problems.length > 0) process.exit(1);
console.log(
  `publint: no problems` +
    (messages.length > problems.length ? " (the nested-imports false positive excepted)" : ""),
);

execFileSync("attw", ["--pack", ".", "--format", "table-flipped", "--no-color"], {
  stdio: "inherit",
});
