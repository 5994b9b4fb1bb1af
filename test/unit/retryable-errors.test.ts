/**
 * `retryableErrors`: the store throws instances of exactly the classes the application hands
 * it (core's, in a bundle where the store cannot find core), from the functional store and
 * the class, in both module formats of the built package. Without it, and without core, the
 * store warns once where core is probably present but hidden.
 */
import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createDynamoDBSagaStore, DynamoDBSagaStore, type StoreCommand } from "../../src";
import { requireBuiltPackage, ROOT, scratchDir } from "../support/built-package";
import { awsError, cancelled } from "../support/fake-send";

class AppConcurrencyError extends Error {
  constructor(
    readonly sagaId: string,
    readonly expectedVersion: number,
    readonly actualVersion?: number,
  ) {
    super(`conflict on ${sagaId}`);
    this.name = "ConcurrencyError";
  }
}
class AppTransientError extends Error {
  constructor(
    message: string,
    override readonly cause?: Error,
  ) {
    super(message);
    this.name = "TransientError";
  }
}
const retryableErrors = {
  ConcurrencyError: AppConcurrencyError,
  TransientError: AppTransientError,
};

const metadata = (version: number) => ({
  sagaId: "saga-1",
  version,
  createdAt: new Date(),
  updatedAt: new Date(),
  isCompleted: false,
});

describe("in process", () => {
  const failing = (error: Error) =>
    jest.fn(async (_command: StoreCommand): Promise<unknown> => Promise.reject(error));

  it("update conflicts throw the given ConcurrencyError", async () => {
    const send = failing(
      awsError("ConditionalCheckFailedException", { Item: { version: { N: "3" } } }),
    );
    const store = createDynamoDBSagaStore({ send, tableName: "sagas", retryableErrors });
    const error = await store.update("Saga", { metadata: metadata(2) }, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppConcurrencyError);
    expect(error).toMatchObject({ sagaId: "saga-1", expectedVersion: 1, actualVersion: 3 });
  });

  it("a lost start race throws the given ConcurrencyError", async () => {
    /** The correlation guard of the start is held by another saga. */
    const lostRace = () =>
      cancelled([
        { Code: "None" },
        { Code: "ConditionalCheckFailed", Item: { sagaId: { S: "other" } } },
      ]);
    const send = failing(lostRace());
    // The holder exists: the consistent read that checks it answers an item.
    send.mockImplementationOnce(async () => Promise.reject(lostRace()));
    send.mockImplementationOnce(async () => ({ Item: { correlationId: "c-1" } }));
    const store = createDynamoDBSagaStore({ send, tableName: "sagas", retryableErrors });
    const error = await store
      .insert("Saga", "c-1", { metadata: metadata(0) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppConcurrencyError);
  });

  it("throttling throws the given TransientError, from the class too", async () => {
    const client = { send: failing(awsError("ThrottlingException")) };
    const store = new DynamoDBSagaStore({ client, tableName: "sagas", retryableErrors });
    const error = await store.getById("Saga", "saga-1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppTransientError);
    expect((error as AppTransientError).cause).toMatchObject({ name: "ThrottlingException" });
  });

  it("refuses something that is not two classes", () => {
    const send = jest.fn();
    expect(() =>
      createDynamoDBSagaStore({
        send,
        tableName: "sagas",
        retryableErrors: { ConcurrencyError: AppConcurrencyError } as never,
      }),
    ).toThrow(expect.objectContaining({ code: "options.invalid" }));
  });
});

// ---------------------------------------------------------------------------------------------
// The built package, in child processes: an ESM app and a CommonJS app, each with its own
// classes, none of them core, and no @saga-bus/core anywhere.

const appSource = (kind: "esm" | "cjs", lambda: boolean) => {
  const load =
    kind === "esm"
      ? `const pkg = await import(${JSON.stringify(join(ROOT, "dist/esm/index.js"))});`
      : `const pkg = require(${JSON.stringify(join(ROOT, "dist/cjs/index.js"))});`;
  const body = `
${lambda ? "process.env.LAMBDA_TASK_ROOT = process.cwd();" : ""}
${load}
const warnings = [];
process.on("warning", (w) => warnings.push(w.code));
class Conflict extends Error { constructor(id, expected, actual) { super("conflict"); this.name = "ConcurrencyError"; } }
class Transient extends Error { constructor(m, c) { super(m); this.name = "TransientError"; this.cause = c; } }
const fail = (e) => async () => { throw e; };
const conflict = Object.assign(new Error("c"), { name: "ConditionalCheckFailedException", Item: { version: 3 } });
const throttled = Object.assign(new Error("t"), { name: "ThrottlingException" });
const meta = { sagaId: "s", version: 2, createdAt: new Date(), updatedAt: new Date(), isCompleted: false };
const given = { ConcurrencyError: Conflict, TransientError: Transient };
const withGiven = pkg.createDynamoDBSagaStore({ send: fail(conflict), tableName: "sagas", retryableErrors: given });
const e1 = await withGiven.update("Saga", { metadata: meta }, 1).catch((e) => e);
const classStore = new pkg.DynamoDBSagaStore({ client: { send: fail(throttled) }, tableName: "sagas", retryableErrors: given });
const e2 = await classStore.getById("Saga", "s").catch((e) => e);
const fallback = pkg.createDynamoDBSagaStore({ send: fail(conflict), tableName: "sagas" });
const e3 = await fallback.update("Saga", { metadata: meta }, 1).catch((e) => e);
await new Promise((r) => setImmediate(r));
console.log(JSON.stringify({
  conflictIsGiven: e1 instanceof Conflict,
  transientIsGiven: e2 instanceof Transient,
  fallbackIsGiven: e3 instanceof Conflict,
  fallbackName: e3.name,
  warnings,
}));
`;
  return kind === "esm" ? body : `(async () => {${body}})();`;
};

const run = (kind: "esm" | "cjs", lambda: boolean, dir: string) =>
  new Promise<Record<string, unknown>>((done, fail) => {
    const script = join(
      dir,
      `app-${kind}-${lambda ? "lambda" : "plain"}.${kind === "esm" ? "mjs" : "cjs"}`,
    );
    writeFileSync(script, appSource(kind, lambda));
    execFile(process.execPath, [script], { cwd: dir, timeout: 30_000 }, (error, stdout, stderr) => {
      const line = stdout.split("\n").find((l) => l.startsWith("{"));
      if (error !== null || line === undefined)
        fail(new Error(`${script}: ${String(error)}\n${stderr}`));
      else done(JSON.parse(line) as Record<string, unknown>);
    });
  });

describe.each(["esm", "cjs"] as const)("built package, %s app", (kind) => {
  let dir: string;
  beforeAll(() => {
    requireBuiltPackage();
    dir = scratchDir("retryable-");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("throws instances of exactly the given classes; without them, its own, and no warning outside Lambda", async () => {
    expect(await run(kind, false, dir)).toEqual({
      conflictIsGiven: true,
      transientIsGiven: true,
      fallbackIsGiven: false,
      fallbackName: "ConcurrencyError",
      warnings: [],
    });
  });

  it("warns once when it falls back inside a Lambda (where bundles hide core)", async () => {
    expect((await run(kind, true, dir)).warnings).toEqual(["SAGA_STORE_DYNAMODB_FALLBACK_ERRORS"]);
  });
});
