/** The operator command line (`saga-store-dynamodb`), run in-process on DynamoDB Local. */
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { CreateTableCommand, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import {
  createDynamoDBSagaStore,
  deleteTable,
  getTableSchema,
  sendVia,
  type DynamoDBSagaStoreFunctions,
  type TableSchema,
} from "../../src";
import { buildProgram } from "../../src/cli/program";
import { runCli } from "../support/cli";
import type { CliIO } from "../../src/cli/io";
import { createLocalTable, localEndpoint, type LocalTable } from "../support/local-table";
import { nextVersion, orderState, startMetadata, type OrderState } from "../support/states";

const ROOT = join(__dirname, "..", "..");
const BIN = join(ROOT, "dist", "cjs", "cli", "main.js");

/** Runs the tool with captured output, against DynamoDB Local unless `--endpoint` is given. */
const cli = (args: readonly string[], extra: Partial<CliIO> = {}) =>
  runCli(["--endpoint", localEndpoint(), "--region", "local", ...args], extra);

const STACK_LINE = /^\s+at /m;
const savedEnv = { ...process.env };
let table: LocalTable;
let store: DynamoDBSagaStoreFunctions<OrderState>;

beforeAll(async () => {
  // DynamoDB Local checks no credentials, but the SDK needs some to sign requests.
  process.env.AWS_ACCESS_KEY_ID = "local";
  process.env.AWS_SECRET_ACCESS_KEY = "local";
  delete process.env.SAGA_TABLE;
  table = await createLocalTable();
  store = createDynamoDBSagaStore<OrderState>({
    send: sendVia(table.docClient),
    tableName: table.tableName,
  });
});
afterAll(async () => {
  await table.drop();
  process.env = savedEnv;
});

/** `show` of an OrderSaga in the shared table, found by `lookup` (`--id <id>`, …). */
const showOrder = (...lookup: string[]): string[] => [
  "--table",
  table.tableName,
  "show",
  "--saga",
  "OrderSaga",
  ...lookup,
];

/** `cleanup` of the sagas of `sagaName` in the shared table, older than `duration`. */
const cleanupOf = (sagaName: string, duration: string): string[] => [
  "--table",
  table.tableName,
  "cleanup",
  "--saga",
  sagaName,
  "--older-than",
  duration,
];

describe("table", () => {
  it("schema prints getTableSchema as JSON, without a request", async () => {
    const out = await cli([
      "--endpoint",
      "http://127.0.0.1:9", // nothing listens there: any request would fail
      "--table",
      "orders",
      "--cleanup-index",
      "Cleanup",
      "table",
      "schema",
      "--provisioned",
      "5,7",
    ]);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(out.stdout)).toEqual(
      getTableSchema("orders", {
        cleanupIndexName: "Cleanup",
        billingMode: "PROVISIONED",
        provisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 7 },
      }),
    );
  });

  it("ensure creates a missing table with TTL, then finds it complete; describe reports it; delete needs --yes", async () => {
    const name = `cli-${randomUUID()}`;
    const created = await cli(["--table", name, "table", "ensure", "--ttl"]);
    expect(created).toEqual({
      code: 0,
      stdout: `created table ${name}\nenabled TTL on expiresAt\n`,
      stderr: "",
    });
    expect(await cli(["--table", name, "table", "ensure", "--ttl"])).toEqual({
      code: 0,
      stdout: `table ${name} is complete\n`,
      stderr: "",
    });

    const text = await cli(["--table", name, "table", "describe"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^table +${name}$`, "m"));
    expect(text.stdout).toMatch(/^status +ACTIVE$/m);
    expect(text.stdout).toMatch(/^key schema +PK \(HASH\), SK \(RANGE\)$/m);
    expect(text.stdout).toMatch(
      /^ +GSI1 +ACTIVE +GSI1PK \(HASH\), GSI1SK \(RANGE\); projection KEYS_ONLY$/m,
    );
    expect(text.stdout).toMatch(
      /^ +GSI2 +ACTIVE +GSI2PK \(HASH\), GSI2SK \(RANGE\); projection INCLUDE/m,
    );
    expect(text.stdout).toMatch(/^items +0 /m);
    expect(text.stdout).toMatch(/^ttl +ENABLED on expiresAt$/m);
    expect(text.stdout).toMatch(/^store +ready$/m);

    const json = await cli(["--table", name, "table", "describe", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      tableName: name,
      status: "ACTIVE",
      billingMode: "PAY_PER_REQUEST",
      keySchema: [
        { attributeName: "PK", keyType: "HASH" },
        { attributeName: "SK", keyType: "RANGE" },
      ],
      indexes: [
        { indexName: "GSI1", status: "ACTIVE", projection: "KEYS_ONLY" },
        {
          indexName: "GSI2",
          status: "ACTIVE",
          projection: "INCLUDE",
          nonKeyAttributes: ["sagaId", "correlationId", "completedAt"],
        },
      ],
      itemCount: 0,
      ttl: { status: "ENABLED", attributeName: "expiresAt" },
      store: { ready: true, problems: [] },
    });

    const refused = await cli(["--table", name, "table", "delete"]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toBe(
      `error: refusing to delete table ${name} and every saga in it without --yes\n`,
    );
    await expect(
      table.client.send(new DescribeTableCommand({ TableName: name })),
    ).resolves.toBeDefined();

    expect(await cli(["--table", name, "table", "delete", "--yes"])).toEqual({
      code: 0,
      stdout: `deleted table ${name}\n`,
      stderr: "",
    });
    expect(await cli(["--table", name, "table", "delete", "--yes"])).toEqual({
      code: 0,
      stdout: `table ${name} does not exist; nothing to delete\n`,
      stderr: "",
    });
  });

  it("create makes a table; ensure adds an index it lacks; describe says what is missing", async () => {
    const name = `cli-${randomUUID()}`;
    expect(await cli(["--table", name, "table", "create", "--provisioned", "3,4"])).toEqual({
      code: 0,
      stdout: `created table ${name} (PROVISIONED)\n`,
      stderr: "",
    });
    const again = await cli(["--table", name, "table", "create"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: ResourceInUseException: .+\n$/);
    const described = JSON.parse(
      (await cli(["--table", name, "table", "describe", "--json"])).stdout,
    );
    expect(described).toMatchObject({
      billingMode: "PROVISIONED",
      provisioned: { readCapacityUnits: 3, writeCapacityUnits: 4 },
    });
    await cli(["--table", name, "table", "delete", "--yes"]);

    // A table made by hand, without the cleanup index.
    const partial = getTableSchema(name);
    await table.client.send(
      new CreateTableCommand({
        ...partial,
        GlobalSecondaryIndexes: partial.GlobalSecondaryIndexes?.slice(0, 1),
        AttributeDefinitions: partial.AttributeDefinitions?.filter(
          (a) => !a.AttributeName?.startsWith("GSI2"),
        ),
      }),
    );
    const before = await cli(["--table", name, "table", "describe"]);
    expect(before.stdout).toMatch(/^store +not ready: index GSI2 is missing$/m);
    expect(before.code).toBe(3);
    expect(before.stderr).toBe(
      `error: table ${name} is not ready for the store: index GSI2 is missing\n`,
    );
    expect(await cli(["--table", name, "table", "ensure"])).toEqual({
      code: 0,
      stdout: "created index GSI2\n",
      stderr: "",
    });
    const after = JSON.parse((await cli(["--table", name, "table", "describe", "--json"])).stdout);
    expect(after.store).toEqual({ ready: true, problems: [] });
    await cli(["--table", name, "table", "delete", "--yes"]);
  });

  it("an unknown table is one clear line and exit code 1; --debug adds the stack", async () => {
    const name = `missing-${randomUUID()}`;
    const out = await cli(["--table", name, "table", "describe"]);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe("");
    expect(out.stderr).toMatch(
      new RegExp(
        `^error: table "${name}" does not exist \\(ResourceNotFoundException: [^\\n]+\\)\\n$`,
      ),
    );

    const shown = await cli(["--table", name, "show", "--saga", "OrderSaga", "--id", "x-1"]);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toMatch(
      new RegExp(`^error: table "${name}" does not exist \\([^\\n]+\\)\\n$`),
    );

    const cleaned = await cli(["--table", name, "cleanup", "--saga", "S", "--older-than", "1d"]);
    expect(cleaned.code).toBe(1);
    expect(cleaned.stderr).toMatch(/^error: table "[^"]+" does not exist/);
    expect(cleaned.stderr).not.toMatch(STACK_LINE);

    const debug = await cli(["--debug", "--table", name, "table", "describe"]);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^error: table .+ does not exist/);
    expect(debug.stderr).toMatch(STACK_LINE);
  });
});

describe("failures", () => {
  it("an endpoint nothing answers on is one line naming it, exit code 1", async () => {
    const out = await cli(["--endpoint", "http://127.0.0.1:9", "table", "describe"]);
    expect(out).toEqual({
      code: 1,
      stdout: "",
      stderr: expect.stringMatching(
        /^error: cannot reach DynamoDB at http:\/\/127\.0\.0\.1:9 \([^\n]*ECONNREFUSED[^\n]*\)\n$/,
      ),
    });
  });
});

describe("show", () => {
  it("prints a saga by id and by correlation id as JSON, Dates as ISO strings", async () => {
    const state = orderState("order-show", startMetadata({ archivedAt: null }));
    await store.insert("OrderSaga", "order-show", state);
    const expected = JSON.parse(JSON.stringify(state));
    expect(expected.placedAt).toBe("2026-11-25T12:34:56.789Z");

    const byId = await cli(showOrder("--id", state.metadata.sagaId));
    expect(byId).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(byId.stdout)).toEqual(expected);
    expect(byId.stdout).toBe(`${JSON.stringify(JSON.parse(byId.stdout), null, 2)}\n`);

    const byCorrelation = await cli([
      "show",
      "--table",
      table.tableName,
      "--saga",
      "OrderSaga",
      "--correlation",
      "order-show",
    ]);
    expect(byCorrelation).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(byCorrelation.stdout)).toEqual(expected);
  });

  it("says not found with exit code 1", async () => {
    const byId = await cli(showOrder("--id", "nope"));
    expect(byId).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: saga "OrderSaga" with id "nope" not found in table ${table.tableName}\n`,
    });
    const byCorrelation = await cli(showOrder("--correlation", "nope"));
    expect(byCorrelation.code).toBe(1);
    expect(byCorrelation.stderr).toMatch(
      /^error: saga "OrderSaga" with correlation id "nope" not found/,
    );
  });

  it("needs exactly one of --id and --correlation (exit code 2)", async () => {
    const neither = await cli(showOrder());
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/^error: show needs one of --id <sagaId> or --correlation/);
    const both = await cli(showOrder("--id", "a", "--correlation", "b"));
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/cannot be used with option '--correlation/);
    const noSaga = await cli(["--table", table.tableName, "show", "--id", "a"]);
    expect(noSaga.code).toBe(2);
    expect(noSaga.stderr).toMatch(/required option '--saga <name>' not specified/);
  });

  it("reports a store error by its message and code, exit code 1", async () => {
    const out = await cli(["--table", table.tableName, "show", "--saga", "Bad#Name", "--id", "a"]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^error: saga "Bad#Name" .+ \[key\.invalid\]\n$/);
  });
});

describe("cleanup", () => {
  const day = 86_400_000;
  /** Starts a saga and completes it at `at` (the `updatedAt` of the completing write). */
  const complete = async (sagaName: string, orderId: string, at: Date) => {
    const state = orderState(orderId, startMetadata({ createdAt: at, updatedAt: at }));
    await store.insert(sagaName, orderId, state);
    await store.update(sagaName, nextVersion(state, {}, { isCompleted: true, updatedAt: at }), 0);
    return state;
  };

  it("deletes completed sagas older than the duration, after a dry run that counts them", async () => {
    const name = "CleanupCli";
    const old = [];
    for (let i = 0; i < 3; i++) {
      old.push(await complete(name, `old-${i}`, new Date(Date.now() - (40 + i) * day)));
    }
    const recent = await complete(name, "recent", new Date(Date.now() - 2 * day));
    const otherName = await complete(`${name}X`, "other", new Date(Date.now() - 60 * day));
    const active = orderState("active");
    await store.insert(name, "active", active);

    const args = cleanupOf(name, "30d");
    const dry = await cli([...args, "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      /^would delete 3 sagas of CleanupCli completed before (\S+) \(dry run\)\n$/,
    );
    const cutoff = new Date(/before (\S+) /.exec(dry.stdout)![1]!);
    expect(Math.abs(cutoff.getTime() - (Date.now() - 30 * day))).toBeLessThan(60_000);
    for (const s of old) expect(await store.getById(name, s.metadata.sagaId)).not.toBeNull();

    const out = await cli([...args, "--concurrency", "2", "--segments", "2"]);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(out.stdout).toMatch(
      /^deleted 3 sagas of CleanupCli completed before \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\n$/,
    );
    for (const s of old) expect(await store.getById(name, s.metadata.sagaId)).toBeNull();
    for (const s of [recent, active]) {
      expect(await store.getById(name, s.metadata.sagaId)).not.toBeNull();
    }
    expect(await store.getById(`${name}X`, otherName.metadata.sagaId)).not.toBeNull();

    const nothing = await cli(args);
    expect(nothing.stdout).toMatch(/^deleted 0 sagas of CleanupCli/);
  });

  it("draws a progress bar on a terminal and clears it before the final line", async () => {
    const name = "CleanupBar";
    await complete(name, "bar-1", new Date(Date.now() - 3 * day));
    let drawn = "";
    const terminal = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    terminal.on("data", (chunk: Buffer) => (drawn += chunk.toString()));
    const out = await cli(cleanupOf(name, "1d"), {
      progressStream: terminal as unknown as NodeJS.WriteStream,
    });
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(out.stdout).toMatch(/^deleted 1 saga of CleanupBar completed before /);
    expect(drawn).toContain(`cleanup ${name} [`);
  });

  it.each([
    "30",
    "30D",
    "1.5d",
    "-1d",
    "+1d",
    "0d",
    "1d12h",
    "30 d",
    "d",
    "",
    "1w",
    "99999999999d",
  ])("rejects the duration %j with exit code 2", async (duration) => {
    const out = await cli(cleanupOf("S", duration));
    expect(out.code).toBe(2);
    expect(out.stdout).toBe("");
    expect(out.stderr).toMatch(/^error: option '--older-than <duration>' argument .+ is invalid/);
  });

  it("rejects a bad --concurrency and a missing --older-than with exit code 2", async () => {
    const base = ["--table", table.tableName, "cleanup", "--saga", "S"];
    expect((await cli([...base, "--older-than", "1d", "--concurrency", "0"])).code).toBe(2);
    expect((await cli([...base, "--older-than", "1d", "--concurrency", "x"])).code).toBe(2);
    const missing = await cli(base);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--older-than <duration>' not specified/);
  });
});

describe("the command line", () => {
  it("prints help and the version with exit code 0, and refuses usage errors with exit code 2", async () => {
    const help = await cli(["cleanup", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: saga-store-dynamodb cleanup \[options\]/);
    expect(help.stdout).toContain("--older-than <duration>");

    const version = await cli(["--version"]);
    const { version: expected } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(version).toEqual({ code: 0, stdout: `${expected}\n`, stderr: "" });

    for (const args of [[], ["table"], ["frobnicate"], ["table", "describe", "--bogus"]]) {
      const out = await cli(args);
      expect({ args, code: out.code }).toEqual({ args, code: 2 });
      expect(out.stdout).toBe("");
    }
    const badTable = await cli(["--table", "x", "table", "schema"]);
    expect(badTable.code).toBe(2);
    expect(badTable.stderr).toMatch(/^error: --table must be a DynamoDB name/);
    const badEndpoint = await cli(["--endpoint", "localhost:8000", "table", "describe"]);
    expect(badEndpoint.code).toBe(2);
  });

  it("runs as the built bin: node dist/cjs/cli/main.js --help", () => {
    if (!existsSync(BIN)) {
      throw new Error(
        `${BIN} is missing: run \`npm run build\` first (npm test builds before jest)`,
      );
    }
    const out = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
    expect(out.stderr).toBe("");
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^Usage: saga-store-dynamodb \[options\] \[command\]/);
    const commands = buildProgram({ stdout: () => undefined, stderr: () => undefined }).commands;
    expect(commands.map((command) => command.name())).toEqual(
      expect.arrayContaining(["table", "show", "cleanup", "migrate"]),
    );
    for (const command of commands) {
      expect(out.stdout).toMatch(new RegExp(`^  ${command.name()} `, "m"));
    }
    expect(readFileSync(BIN, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  it("ends quietly when the reader of its output has gone (`| head`)", async () => {
    const child = spawn(process.execPath, [BIN, "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy(); // the reader is gone before the help is written: EPIPE
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.on("close", done));
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
  });
});

describe("table describe: exit code 3 unless the store can use the table", () => {
  /** Creates a table by hand: the store's schema, changed by `edit`. */
  const createEdited = async (edit: (schema: TableSchema) => TableSchema): Promise<string> => {
    const name = `cli-${randomUUID()}`;
    await table.client.send(new CreateTableCommand(edit(getTableSchema(name))));
    return name;
  };

  it.each<[string, (schema: TableSchema) => TableSchema, RegExp]>([
    [
      "an index without the projection cleanup reads",
      (schema) => ({
        ...schema,
        GlobalSecondaryIndexes: schema.GlobalSecondaryIndexes?.map((index) =>
          index.IndexName === "GSI2"
            ? { ...index, Projection: { ProjectionType: "KEYS_ONLY" } }
            : index,
        ),
      }),
      /its index GSI2 does not project sagaId, correlationId, completedAt/,
    ],
    [
      "a key attribute that is a number",
      (schema) => ({
        ...schema,
        AttributeDefinitions: schema.AttributeDefinitions?.map((a) =>
          a.AttributeName === "GSI1SK" ? { ...a, AttributeType: "N" } : a,
        ),
      }),
      /its key attribute GSI1SK must be a string \(S\), not N/,
    ],
    [
      "other table keys",
      (schema) => ({
        ...schema,
        KeySchema: [{ AttributeName: "PK", KeyType: "HASH" }],
        AttributeDefinitions: schema.AttributeDefinitions?.filter((a) => a.AttributeName !== "SK"),
      }),
      /its key schema is \(PK HASH\), the store needs \(PK HASH, SK RANGE\)/,
    ],
  ])("%s: the report says why, as text and JSON, with exit code 3", async (_what, edit, why) => {
    const name = await createEdited(edit);
    try {
      const text = await cli(["--table", name, "table", "describe"]);
      expect(text.code).toBe(3);
      expect(text.stdout).toMatch(new RegExp(`^store +not ready: .*${why.source}`, "m"));
      expect(text.stderr).toMatch(
        new RegExp(`^error: table ${name} is not ready for the store: .*${why.source}.*\\n$`),
      );

      const json = await cli(["--table", name, "table", "describe", "--json"]);
      expect(json.code).toBe(3);
      const report = JSON.parse(json.stdout);
      expect(report.store.ready).toBe(false);
      expect(report.store.problems.join("; ")).toMatch(why);
    } finally {
      await deleteTable(table.client, name);
    }
  });

  it("a ready table is exit code 0; the report names the region", async () => {
    const out = await cli(["--table", table.tableName, "table", "describe", "--json"]);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(out.stdout)).toMatchObject({
      tableName: table.tableName,
      region: "local",
      store: { ready: true, problems: [] },
    });
    const text = await cli(["--table", table.tableName, "table", "describe"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^region +local$/m);
  });
});

describe("--json: one JSON document on stdout", () => {
  const json = async (args: readonly string[]): Promise<unknown> => {
    const out = await cli([...args, "--json"]);
    expect({ args, code: out.code, stderr: out.stderr }).toEqual({ args, code: 0, stderr: "" });
    return JSON.parse(out.stdout);
  };

  it("table create, ensure and delete report their changes", async () => {
    const name = `cli-${randomUUID()}`;
    expect(
      await json(["--table", name, "table", "create", "--provisioned", "2,3", "--ttl"]),
    ).toEqual({
      tableName: name,
      billingMode: "PROVISIONED",
      changes: [
        { kind: "createdTable", tableName: name },
        { kind: "enabledTtl", attributeName: "expiresAt" },
      ],
    });
    expect(await json(["--table", name, "table", "ensure", "--ttl"])).toEqual({
      tableName: name,
      changes: [],
    });
    expect(await json(["--table", name, "table", "delete", "--yes"])).toEqual({
      tableName: name,
      deleted: true,
    });
    expect(await json(["--table", name, "table", "delete", "--yes"])).toEqual({
      tableName: name,
      deleted: false,
    });
    expect(await json(["--table", name, "table", "ensure"])).toEqual({
      tableName: name,
      changes: [{ kind: "createdTable", tableName: name }],
    });
    await deleteTable(table.client, name);
  });

  it("table schema: --json changes nothing; --ttl adds CloudFormation's TimeToLiveSpecification", async () => {
    const offline = ["--endpoint", "http://127.0.0.1:9", "--table", "orders", "table", "schema"];
    const plain = await cli(offline);
    expect(plain.code).toBe(0);
    expect(await json(offline)).toEqual(JSON.parse(plain.stdout));
    expect(JSON.parse(plain.stdout)).not.toHaveProperty("TimeToLiveSpecification");

    const withTtl = await json([...offline, "--ttl"]);
    expect(withTtl).toEqual({
      ...getTableSchema("orders"),
      TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
    });
  });

  it("show prints the saga as without --json", async () => {
    const state = orderState("order-json");
    await store.insert("OrderSaga", "order-json", state);
    const args = showOrder("--id", state.metadata.sagaId);
    const plain = await cli(args);
    expect(await json(args)).toEqual(JSON.parse(plain.stdout));
  });

  it("cleanup reports the cutoff and the count, in a dry run and in a real one", async () => {
    const args = cleanupOf("JsonCleanup", "1d");
    const dry = await json([...args, "--dry-run"]);
    expect(dry).toEqual({
      sagaName: "JsonCleanup",
      completedBefore: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      dryRun: true,
      wouldDelete: 0,
    });
    expect(await json(args)).toEqual({
      sagaName: "JsonCleanup",
      completedBefore: expect.any(String),
      dryRun: false,
      deleted: 0,
    });
  });

  it("migrate prints its summary with the table and the time it took", async () => {
    const report = await json(["--table", table.tableName, "migrate", "--dry-run"]);
    expect(report).toEqual({
      tableName: table.tableName,
      dryRun: true,
      scanned: 0,
      examined: expect.any(Number),
      converted: 0,
      alreadyMigrated: 0,
      skipped: [],
      requests: expect.any(Number),
      readCapacityUnits: expect.any(Number),
      writeCapacityUnits: 0,
      seconds: expect.any(Number),
    });
  });

  it("every command that prints a result takes --json", () => {
    const program = buildProgram({ stdout: () => undefined, stderr: () => undefined });
    const leaves = program.commands.flatMap((command) =>
      command.commands.length === 0 ? [command] : command.commands,
    );
    for (const command of leaves) {
      expect({
        command: command.name(),
        json: command.options.some((o) => o.long === "--json"),
      }).toEqual({
        command: command.name(),
        json: true,
      });
    }
  });
});
