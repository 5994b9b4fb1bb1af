/**
 * The built package (dist/), for tests that run it in child Node processes, and scratch
 * folders for their apps under test/.tmp/: inside the project, so that the package's own
 * dependencies resolve from its node_modules.
 */
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { join, resolve } from "node:path";

/** The root of the project. */
export const ROOT = resolve(__dirname, "../..");

/** Fails unless both builds of dist/ (ESM and CommonJS) are there. */
export const requireBuiltPackage = (): void => {
  if (
    !existsSync(join(ROOT, "dist/esm/index.js")) ||
    !existsSync(join(ROOT, "dist/cjs/index.js"))
  ) {
    throw new Error("dist/ of @saga-bus/store-dynamodb is missing: run npm run build first");
  }
};

/** A new, empty folder test/.tmp/<prefix><random>; the test removes it. */
export const scratchDir = (prefix: string): string => {
  mkdirSync(join(ROOT, "test/.tmp"), { recursive: true });
  return mkdtempSync(join(ROOT, `test/.tmp/${prefix}`));
};
