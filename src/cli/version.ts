/** The package's version, read from its package.json wherever the tool runs from. */
import { readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";

/** The name in the package.json the version is read from. */
export const PACKAGE_NAME = "@saga-bus/store-dynamodb";

const readManifest = (file: string): { name?: unknown; version?: unknown } | undefined => {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
};

/** Where this module is: `__dirname` under CommonJS (the bin, ts-jest), else the script's folder. */
const startFolder = (): string => {
  if (typeof __dirname === "string") return __dirname;
  const script = process.argv[1] ?? ".";
  try {
    return dirname(realpathSync(script));
  } catch {
    return dirname(script);
  }
};

/**
 * The version in the nearest package.json named `@saga-bus/store-dynamodb` above this module:
 * `../../package.json` from `src/cli`, `../../../package.json` from `dist/cjs/cli` (the
 * `package.json` files in `dist/*` only mark the module kind and are skipped). `"unknown"`
 * when there is none.
 */
export const packageVersion = (from: string = startFolder()): string => {
  for (let folder = from; ;) {
    const manifest = readManifest(join(folder, "package.json"));
    if (manifest?.name === PACKAGE_NAME && typeof manifest.version === "string") {
      return manifest.version;
    }
    const parent = dirname(folder);
    if (parent === folder) return "unknown";
    folder = parent;
  }
};
