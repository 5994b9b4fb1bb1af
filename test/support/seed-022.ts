/**
 * The published `@saga-bus/store-dynamodb@0.2.2`, loaded from its packed `dist` for tests that
 * need a table written by 0.2.2's own code.
 *
 * It is fetched once with `npm pack` into test/.tmp/seed-022/ (gitignored) and checked
 * against its published integrity. Its dependency `@saga-bus/core` is not served by the
 * registries these machines reach, so the stand-in core of test/fixtures/core-standin is
 * copied beside it: requiring its `dist/index.cjs` resolves `@saga-bus/core` to the stand-in
 * and `@aws-sdk/*` to the project's node_modules (test/.tmp is inside the project).
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { join, resolve } from "node:path";
import type { SagaState } from "../../src";

const ROOT = resolve(__dirname, "../..");
const CORE_STANDIN = join(ROOT, "test/fixtures/core-standin");

/** The package, version and the integrity npm publishes for its tarball. */
export const SEED_022 = {
  spec: "@saga-bus/store-dynamodb@0.2.2",
  tarball: "saga-bus-store-dynamodb-0.2.2.tgz",
  integrity:
    "sha512-VwkbQpsWp/ieQaZn90lPKh+pLrNxRBuKQMpIqPHUZKRxQmdDZ5fj9P7WDOIz+XlTX0uH5nLONLYpPSl91cgCUA==",
} as const;

/** Where the package is kept between runs. */
export const SEED_022_CACHE = join(ROOT, "test/.tmp/seed-022");

const PACKAGE_DIR = join(SEED_022_CACHE, "node_modules/@saga-bus/store-dynamodb-0.2.2");
const ENTRY = join(PACKAGE_DIR, "dist/index.cjs");
const CORE_DIR = join(SEED_022_CACHE, "node_modules/@saga-bus/core");

/** 0.2.2's table options: its `getTableSchema` answer, which its `createTable` takes. */
export interface Seed022Schema {
  readonly tableName: string;
  readonly correlationIndexName: string;
  readonly cleanupIndexName: string;
}

/** The methods of 0.2.2's store that tests call. */
export interface Seed022Store {
  getById(sagaName: string, sagaId: string): Promise<SagaState | null>;
  getByCorrelationId(sagaName: string, correlationId: string): Promise<SagaState | null>;
  insert(sagaName: string, correlationId: string, state: SagaState): Promise<void>;
  update(sagaName: string, state: SagaState, expectedVersion: number): Promise<void>;
  delete(sagaName: string, sagaId: string): Promise<void>;
}

/** What the 0.2.2 package exports. */
export interface Seed022 {
  readonly DynamoDBSagaStore: new (options: {
    readonly client: DynamoDBDocumentClient;
    readonly tableName: string;
  }) => Seed022Store;
  getTableSchema(tableName: string): Seed022Schema;
  createTable(client: DynamoDBClient, schema: Seed022Schema): Promise<void>;
  deleteTable(client: DynamoDBClient, tableName: string): Promise<void>;
}

const integrityOf = (file: string): string =>
  `sha512-${createHash("sha512").update(readFileSync(file)).digest("base64")}`;

/** The tarball in the cache, fetched with `npm pack` unless it is there already. */
const tarball = (): string => {
  const file = join(SEED_022_CACHE, SEED_022.tarball);
  if (!existsSync(file)) {
    mkdirSync(SEED_022_CACHE, { recursive: true });
    // Into a folder of its own, then renamed: concurrent test files never see half a file.
    const staging = mkdtempSync(join(SEED_022_CACHE, ".pack-"));
    try {
      execFileSync("npm", ["pack", SEED_022.spec, "--pack-destination", staging, "--silent"], {
        cwd: staging,
        stdio: ["ignore", "ignore", "pipe"],
        timeout: 120_000,
      });
      renameSync(join(staging, SEED_022.tarball), file);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const integrity = integrityOf(file);
  if (integrity !== SEED_022.integrity) {
    rmSync(file, { force: true });
    throw new Error(
      `${SEED_022.spec}: tarball integrity ${integrity}, expected ${SEED_022.integrity}`,
    );
  }
  return file;
};

const installed = (): boolean => existsSync(ENTRY) && existsSync(join(CORE_DIR, "package.json"));

/**
 * Extracts the package and copies the stand-in core beside it: built in a staging folder
 * and renamed into place in one step, so that a concurrent test file either sees all of it
 * or builds its own. Copies, not symlinks: Node resolves a symlink to its real path, which
 * would bypass this node_modules.
 */
const install = (): void => {
  if (installed()) return;
  const file = tarball();
  const staging = mkdtempSync(join(SEED_022_CACHE, ".install-"));
  try {
    execFileSync("tar", ["xzf", file, "-C", staging], { stdio: ["ignore", "ignore", "pipe"] });
    const modules = join(staging, "node_modules/@saga-bus");
    mkdirSync(modules, { recursive: true });
    renameSync(join(staging, "package"), join(modules, "store-dynamodb-0.2.2"));
    cpSync(CORE_STANDIN, join(modules, "core"), { recursive: true });
    const target = join(SEED_022_CACHE, "node_modules");
    try {
      renameSync(join(staging, "node_modules"), target);
    } catch {
      // Another test file installed it first, or an interrupted install left a part.
      if (installed()) return;
      rmSync(target, { recursive: true, force: true });
      renameSync(join(staging, "node_modules"), target);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
};

/** Loads 0.2.2 (fetching and installing it on first use). */
export const loadSeed022 = (): Seed022 => {
  install();
  // Jest's own require, so that 0.2.2 shares the test's instances of the AWS SDK modules.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(ENTRY) as Seed022;
};
