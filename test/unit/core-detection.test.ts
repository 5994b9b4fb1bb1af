/**
 * The store must throw the error classes of the `@saga-bus/core` the application itself
 * loaded (its ESM file for an ESM app, its CommonJS file for a CommonJS app), and its own
 * fallback classes when core is absent. Each case runs the built package (dist/) in a child
 * Node process inside a throw-away app under test/.tmp/, with a stand-in core
 * (test/fixtures/core-standin) whose two files define distinct classes.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireBuiltPackage, ROOT, scratchDir } from "../support/built-package";

const FIXTURE = join(ROOT, "test/fixtures/core-standin");
const CHILD_TIMEOUT_MS = 30_000;

type Kind = "esm" | "cjs";
type AppName = "app-with-core" | "app-without-core";

/** What a child app reports about one caught error. */
interface ErrorReport {
  readonly name: string;
  readonly message: string;
  readonly isError: boolean;
  /** `instanceof` core's class of the file the app loaded; null without core. */
  readonly isCore: boolean | null;
  /** `instanceof` core's class of the *other* file (the other module kind); null without core. */
  readonly isOtherFlavour: boolean | null;
  readonly ctorIsCore: boolean | null;
  readonly ctorIsOtherFlavour: boolean | null;
  /** `instanceof` the package's exported class (name-based `Symbol.hasInstance`). */
  readonly isPackage: boolean;
  /** The error is an instance of the package's own fallback class itself. */
  readonly ctorIsPackage: boolean;
  readonly sagaId?: string;
  readonly expectedVersion?: number;
  readonly actualVersion?: number;
  readonly causeIsOriginal: boolean;
}

/** The one JSON line a child app prints. */
interface AppReport {
  readonly kind: Kind;
  /** `flavour` of the core module the app loaded the way its kind does; null without core. */
  readonly flavour: string | null;
  /** `flavour` of core loaded the other way (ESM app: require; CJS app: import()). */
  readonly otherFlavour: string | null;
  /** Core's ESM and CJS classes are distinct objects (sanity check of the stand-in). */
  readonly flavoursDistinct: boolean | null;
  /** Whether `@saga-bus/core` resolves at all from the app. */
  readonly coreResolvable: boolean;
  /** `source` of the package's `loadRetryableErrors()`. */
  readonly source: string;
  /** The classes the package resolved are core's classes of the app's own flavour. */
  readonly classesAreCore: boolean | null;
  readonly concurrency: ErrorReport | null;
  readonly transient: ErrorReport | null;
}

// The part shared by all four apps. Expects `pkg`, `core` and `other` (core loaded the other
// way) in scope, and `coreResolvable`; prints one JSON line.
const SHARED_BODY = `
  const state = {
    metadata: {
      sagaId: "s-1",
      version: 4,
      createdAt: new Date("2024-05-01T10:00:00.000Z"),
      updatedAt: new Date("2024-05-01T11:00:00.000Z"),
      isCompleted: false,
    },
    orderId: "o-1",
  };
  const conditional = Object.assign(new Error("The conditional request failed"), {
    name: "ConditionalCheckFailedException",
    Item: { version: { N: "5" } },
  });
  const throttled = Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
    name: "ThrottlingException",
    $fault: "client",
    $retryable: { throttling: true },
  });
  const failWith = async (error) => {
    const store = pkg.createDynamoDBSagaStore({
      tableName: "sagas-test",
      send: async () => {
        throw error;
      },
    });
    try {
      await store.update("OrderSaga", state, 3);
    } catch (err) {
      return err;
    }
    return null;
  };
  const describeError = (err, className, original) =>
    err === null
      ? null
      : {
          name: err.name,
          message: err.message,
          isError: err instanceof Error,
          isCore: core ? err instanceof core[className] : null,
          isOtherFlavour: other ? err instanceof other[className] : null,
          ctorIsCore: core ? err.constructor === core[className] : null,
          ctorIsOtherFlavour: other ? err.constructor === other[className] : null,
          isPackage: err instanceof pkg[className],
          ctorIsPackage: err.constructor === pkg[className],
          sagaId: err.sagaId,
          expectedVersion: err.expectedVersion,
          actualVersion: err.actualVersion,
          causeIsOriginal: err.cause === original,
        };
  const classes = await pkg.loadRetryableErrors();
  const report = {
    kind: KIND,
    flavour: core ? core.flavour : null,
    otherFlavour: other ? other.flavour : null,
    flavoursDistinct:
      core && other
        ? core.ConcurrencyError !== other.ConcurrencyError &&
          core.TransientError !== other.TransientError
        : null,
    coreResolvable,
    source: classes.source,
    classesAreCore: core
      ? classes.ConcurrencyError === core.ConcurrencyError &&
        classes.TransientError === core.TransientError
      : null,
    concurrency: describeError(await failWith(conditional), "ConcurrencyError", conditional),
    transient: describeError(await failWith(throttled), "TransientError", throttled),
  };
  process.stdout.write(JSON.stringify(report) + "\\n");
`;

/** Source of the app script of one kind, with or without core. */
const appSource = (kind: Kind, withCore: boolean): string => {
  if (kind === "esm") {
    const imports = withCore
      ? [
          `import * as core from "@saga-bus/core";`,
          `import { createRequire } from "node:module";`,
          `const other = createRequire(import.meta.url)("@saga-bus/core");`,
          `const coreResolvable = true;`,
        ]
      : [
          `const core = null;`,
          `const other = null;`,
          `const coreResolvable = await import("@saga-bus/core").then(() => true, () => false);`,
        ];
    return [
      `import * as pkg from "@saga-bus/store-dynamodb";`,
      ...imports,
      `const KIND = "esm";`,
      `const main = async () => {${SHARED_BODY}};`,
      `await main();`,
      ``,
    ].join("\n");
  }
  const requires = withCore
    ? [
        `  const core = require("@saga-bus/core");`,
        `  const other = await import("@saga-bus/core");`,
        `  const coreResolvable = true;`,
      ]
    : [
        `  const core = null;`,
        `  const other = null;`,
        `  let coreResolvable = true;`,
        `  try { require("@saga-bus/core"); } catch { coreResolvable = false; }`,
      ];
  return [
    `"use strict";`,
    `const pkg = require("@saga-bus/store-dynamodb");`,
    `const KIND = "cjs";`,
    `const main = async () => {`,
    ...requires,
    SHARED_BODY,
    `};`,
    `main().catch((error) => { console.error(error); process.exitCode = 1; });`,
    ``,
  ].join("\n");
};

interface ChildOutcome {
  readonly script: string;
  readonly error: Error | null;
  readonly stdout: string;
  readonly stderr: string;
}

const runNode = (script: string, cwd: string): Promise<ChildOutcome> => {
  const env = { ...process.env };
  delete env.NODE_PATH; // resolution must come from node_modules folders only
  return new Promise((done) => {
    execFile(
      process.execPath,
      [script],
      { cwd, env, timeout: CHILD_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => done({ script, error, stdout, stderr }),
    );
  });
};

/** The JSON report of a child; stderr (the AWS SDK's Node-version warning) is ignored. */
const reportOf = (outcome: ChildOutcome): AppReport => {
  const line = outcome.stdout
    .split("\n")
    .map((l) => l.trim())
    .reverse()
    .find((l) => l.startsWith("{"));
  if (outcome.error !== null || line === undefined) {
    throw new Error(
      `child app ${outcome.script} did not report` +
        (outcome.error ? ` (${outcome.error.message})` : "") +
        `\n--- stdout ---\n${outcome.stdout}\n--- stderr ---\n${outcome.stderr}`,
    );
  }
  return JSON.parse(line) as AppReport;
};

let tmpRoot: string | undefined;
const outcomes = new Map<string, Promise<ChildOutcome>>();

const caseKey = (app: AppName, kind: Kind): string => `${app}/${kind}`;

const reportFor = async (app: AppName, kind: Kind): Promise<AppReport> => {
  const outcome = outcomes.get(caseKey(app, kind));
  if (outcome === undefined) throw new Error(`no child app ran for ${caseKey(app, kind)}`);
  return reportOf(await outcome);
};

beforeAll(() => {
  requireBuiltPackage();
  // @saga-bus/core resolves only to the stand-in copied into an app (or to nothing).
  tmpRoot = scratchDir("core-detection-");
  for (const app of ["app-with-core", "app-without-core"] as const) {
    const appDir = join(tmpRoot, app);
    // Copies, not symlinks: Node resolves a symlink to its real path, which would bypass
    // the app's node_modules.
    const storeDir = join(appDir, "node_modules/@saga-bus/store-dynamodb");
    mkdirSync(storeDir, { recursive: true });
    cpSync(join(ROOT, "package.json"), join(storeDir, "package.json"));
    cpSync(join(ROOT, "dist"), join(storeDir, "dist"), { recursive: true });
    const withCore = app === "app-with-core";
    if (withCore) {
      cpSync(FIXTURE, join(appDir, "node_modules/@saga-bus/core"), { recursive: true });
    }
    writeFileSync(join(appDir, "package.json"), JSON.stringify({ name: app, private: true }));
    for (const kind of ["esm", "cjs"] as const) {
      const script = join(appDir, `app.${kind === "esm" ? "mjs" : "cjs"}`);
      writeFileSync(script, appSource(kind, withCore));
      outcomes.set(caseKey(app, kind), runNode(script, appDir));
    }
  }
});

afterAll(async () => {
  // Let the children finish before their folder goes.
  await Promise.all(outcomes.values());
  if (tmpRoot !== undefined) rmSync(tmpRoot, { recursive: true, force: true });
});

jest.setTimeout(CHILD_TIMEOUT_MS * 2);

/** The ConcurrencyError of SHARED_BODY's `update` at version 3 of a saga at version 5. */
const VERSION_MISMATCH = {
  name: "ConcurrencyError",
  isError: true,
  sagaId: "s-1",
  expectedVersion: 3,
  actualVersion: 5,
};
/** The TransientError of SHARED_BODY's throttled `update`, the throttling error as its cause. */
const THROTTLED = { name: "TransientError", isError: true, causeIsOriginal: true };
/** An error of core's class of the app's own flavour (not of the other file, nor the package's). */
const OF_CORE = {
  isCore: true,
  ctorIsCore: true,
  isOtherFlavour: false,
  ctorIsOtherFlavour: false,
  ctorIsPackage: false,
};
/** An error of the package's own fallback class. */
const OF_PACKAGE = { isPackage: true, ctorIsPackage: true };

describe.each(["esm", "cjs"] as const)("%s app with @saga-bus/core installed", (kind) => {
  const otherKind = kind === "esm" ? "cjs" : "esm";

  it(`loads core's ${kind} file, whose classes differ from its ${otherKind} file's`, async () => {
    const report = await reportFor("app-with-core", kind);
    expect(report.kind).toBe(kind);
    expect(report.coreResolvable).toBe(true);
    expect(report.flavour).toBe(kind);
    expect(report.otherFlavour).toBe(otherKind);
    expect(report.flavoursDistinct).toBe(true);
  });

  it("resolves core's classes of the app's own flavour", async () => {
    const report = await reportFor("app-with-core", kind);
    expect(report.source).toBe("@saga-bus/core");
    expect(report.classesAreCore).toBe(true);
  });

  it("throws core's own ConcurrencyError on a version mismatch", async () => {
    const { concurrency } = await reportFor("app-with-core", kind);
    expect(concurrency).toMatchObject({ ...VERSION_MISMATCH, ...OF_CORE });
  });

  it("throws core's own TransientError, with the original error as cause, on throttling", async () => {
    const { transient } = await reportFor("app-with-core", kind);
    expect(transient).toMatchObject({ ...THROTTLED, ...OF_CORE });
    expect(transient?.message).toContain("ThrottlingException");
  });
});

describe.each(["esm", "cjs"] as const)("%s app without @saga-bus/core", (kind) => {
  it("cannot resolve core, so the package uses its fallback classes", async () => {
    const report = await reportFor("app-without-core", kind);
    expect(report.kind).toBe(kind);
    expect(report.coreResolvable).toBe(false);
    expect(report.flavour).toBeNull();
    expect(report.source).toBe("fallback");
  });

  it("throws the package's ConcurrencyError on a version mismatch", async () => {
    const { concurrency } = await reportFor("app-without-core", kind);
    expect(concurrency).toMatchObject({ ...VERSION_MISMATCH, ...OF_PACKAGE });
  });

  it("throws the package's TransientError, with the original error as cause, on throttling", async () => {
    const { transient } = await reportFor("app-without-core", kind);
    expect(transient).toMatchObject({ ...THROTTLED, ...OF_PACKAGE });
    expect(transient?.message).toContain("ThrottlingException");
  });
});
