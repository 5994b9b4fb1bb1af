/**
 * `ensureTable` on DynamoDB Local where processes starting together race each other (the
 * interleavings are forced by holding requests, so each race happens on every run), and
 * tables whose index key attributes have the wrong type.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type ScalarAttributeType,
} from "@aws-sdk/client-dynamodb";
import {
  ConfigurationError,
  ensureTable,
  getTableSchema,
  waitForTable,
  type TableChange,
  type TableClient,
} from "../../src";
import { runCli } from "../support/cli";
import { ownTables } from "../support/local-table";
import { recordingTableClient } from "../support/table-client";

const { client, newTableName: ownTableName } = ownTables();
const newTableName = (): string => ownTableName("races");
const savedEnv = { ...process.env };

beforeAll(() => {
  // For the command line, which takes credentials from the environment.
  process.env.AWS_ACCESS_KEY_ID = "local";
  process.env.AWS_SECRET_ACCESS_KEY = "local";
});
afterAll(() => {
  process.env = savedEnv;
});

/** Sends through the real client; `TableClient` takes any of the control-plane commands. */
const send = (command: Parameters<TableClient["send"]>[0]): Promise<unknown> =>
  client.send(command as never);

/** Lets a test proceed if fewer requests than expected arrive, so it fails instead of hanging. */
const PATIENCE_MS = 10_000;

/** A promise and the function that resolves it, resolved by itself after `PATIENCE_MS`. */
const latch = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const timer = setTimeout(() => open(), PATIENCE_MS);
  void opened.then(() => clearTimeout(timer));
  return { opened, open };
};

/**
 * Sends the first `parties` requests at once but hands out no answer until all have one:
 * every process has read before any acts on what it read.
 */
const answersTogether = (parties: number) => {
  let answered = 0;
  const all = latch();
  return async <T>(request: () => Promise<T>): Promise<T> => {
    if (answered >= parties) return request();
    try {
      return await request();
    } finally {
      if (++answered === parties) all.open();
      await all.opened;
    }
  };
};

/**
 * Holds the first `parties` requests until all have arrived, then sends them one at a time,
 * each after the previous one's answer and `settle`: every process decided to write before
 * any write happened, and DynamoDB sees the writes in order.
 */
const oneAtATime = (parties: number, settle: () => Promise<void> = async () => undefined) => {
  let arrived = 0;
  const all = latch();
  let turn: Promise<unknown> = all.opened;
  return <T>(request: () => Promise<T>): Promise<T> => {
    if (arrived >= parties) return request();
    if (++arrived === parties) all.open();
    const mine = turn.then(async () => {
      try {
        return await request();
      } finally {
        await settle();
      }
    });
    turn = mine.catch(() => undefined);
    return mine;
  };
};

/** The names of the errors each kind of request was answered with, for proof of the race. */
type Refusals = Record<string, string[]>;

const recordRefusal = async <T>(refusals: Refusals, kind: string, request: () => Promise<T>) => {
  try {
    return await request();
  } catch (error) {
    (refusals[kind] ??= []).push((error as Error).name);
    throw error;
  }
};

const outcomes = (results: PromiseSettledResult<TableChange[]>[]): string[] =>
  results.map((r) => (r.status === "fulfilled" ? "ok" : String(r.reason)));

const describeTtl = async (tableName: string) =>
  (await client.send(new DescribeTimeToLiveCommand({ TableName: tableName })))
    .TimeToLiveDescription;

const indexStatuses = async (tableName: string) =>
  Object.fromEntries(
    (
      (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table
        ?.GlobalSecondaryIndexes ?? []
    ).map((index) => [index.IndexName, index.IndexStatus]),
  );

describe("processes running ensureTable at once", () => {
  it("three ensureTable({ ttl: true }) on a missing table all succeed, though all read TTL off before any enabled it", async () => {
    const tableName = newTableName();
    const ttlReads = answersTogether(3);
    const ttlWrites = oneAtATime(3);
    const refusals: Refusals = {};
    const instance: TableClient = {
      send: (command) => {
        if (command instanceof DescribeTimeToLiveCommand) return ttlReads(() => send(command));
        if (command instanceof UpdateTimeToLiveCommand) {
          return ttlWrites(() => recordRefusal(refusals, "ttl", () => send(command)));
        }
        return send(command);
      },
    };
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => ensureTable(instance, { tableName, ttl: true })),
    );

    expect(outcomes(results)).toEqual(["ok", "ok", "ok"]);
    // DynamoDB refused the two later enablers: the race happened.
    expect(refusals).toEqual({ ttl: ["ValidationException", "ValidationException"] });
    const changes = results.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
    expect(changes).toEqual(
      expect.arrayContaining([
        { kind: "createdTable", tableName },
        { kind: "enabledTtl", attributeName: "expiresAt" },
      ]),
    );
    expect(changes).toHaveLength(2);
    expect(await describeTtl(tableName)).toMatchObject({
      AttributeName: "expiresAt",
      TimeToLiveStatus: "ENABLED",
    });
  });

  /** A client whose first TTL read is followed by another process enabling TTL on `attribute`. */
  const interloped = (tableName: string, attribute: string): TableClient => {
    let first = true;
    return {
      send: async (command) => {
        const answer = await send(command);
        if (first && command instanceof DescribeTimeToLiveCommand) {
          first = false;
          await send(
            new UpdateTimeToLiveCommand({
              TableName: tableName,
              TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
            }),
          );
        }
        return answer;
      },
    };
  };

  it("TTL enabled on expiresAt by another process between the read and the write is accepted", async () => {
    const tableName = newTableName();
    await ensureTable(client, { tableName });
    expect(await ensureTable(interloped(tableName, "expiresAt"), { tableName, ttl: true })).toEqual(
      [],
    );
    expect((await describeTtl(tableName))?.AttributeName).toBe("expiresAt");
  });

  it("TTL enabled on another attribute between the read and the write is table.invalid", async () => {
    const tableName = newTableName();
    await ensureTable(client, { tableName });
    const error = await ensureTable(interloped(tableName, "deleteAt"), {
      tableName,
      ttl: true,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: "table.invalid" });
    expect((error as Error).message).toContain("TTL on attribute deleteAt, not expiresAt");
  });

  it("three ensureTable calls on a table without indexes all succeed, though all decided to add the same index", async () => {
    const schema = getTableSchema("unused");
    const tableName = newTableName();
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: schema.KeySchema,
        AttributeDefinitions: schema.AttributeDefinitions?.slice(0, 2),
      }),
    );
    await waitForTable(client, tableName);
    // Each index's additions are sent in turn, each once the table is ACTIVE again, so the
    // later ones meet an index that exists.
    const settle = () => waitForTable(client, tableName);
    const indexWrites = new Map(["GSI1", "GSI2"].map((name) => [name, oneAtATime(3, settle)]));
    const refusals: Refusals = {};
    const instance: TableClient = {
      send: (command) => {
        if (!(command instanceof UpdateTableCommand)) return send(command);
        const indexName = command.input.GlobalSecondaryIndexUpdates?.[0]?.Create?.IndexName ?? "";
        return indexWrites.get(indexName)!(() =>
          recordRefusal(refusals, indexName, () => send(command)),
        );
      },
    };
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => ensureTable(instance, { tableName })),
    );

    expect(outcomes(results)).toEqual(["ok", "ok", "ok"]);
    expect(refusals).toEqual({
      GSI1: ["ValidationException", "ValidationException"],
      GSI2: ["ValidationException", "ValidationException"],
    });
    // Each index created once, by whichever instance got there first (in any order).
    const changes = results
      .flatMap((r) => (r.status === "fulfilled" ? r.value : []))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(changes).toEqual([
      { kind: "createdIndex", indexName: "GSI1" },
      { kind: "createdIndex", indexName: "GSI2" },
    ]);
    expect(await indexStatuses(tableName)).toEqual({ GSI1: "ACTIVE", GSI2: "ACTIVE" });
  });
});

describe("index key attributes of the wrong type", () => {
  /** The store's table as DynamoDB creates it, with `types` instead of S for some attributes. */
  const createMistyped = async (
    types: Record<string, ScalarAttributeType>,
    change: (input: CreateTableCommandInput) => CreateTableCommandInput = (input) => input,
  ): Promise<string> => {
    const tableName = newTableName();
    const schema = getTableSchema(tableName);
    await client.send(
      new CreateTableCommand(
        change({
          ...schema,
          AttributeDefinitions: schema.AttributeDefinitions?.map((a) => ({
            ...a,
            AttributeType: types[a.AttributeName!] ?? a.AttributeType,
          })),
        }),
      ),
    );
    await waitForTable(client, tableName);
    return tableName;
  };

  /** Runs the command line in-process on DynamoDB Local. */
  const cli = (args: readonly string[]) =>
    runCli(["--endpoint", process.env.DYNAMODB_ENDPOINT!, ...args]);

  it.each(["GSI1SK", "GSI2PK"])(
    "%s declared N: ensureTable and `table ensure` refuse the table, `table describe` says not ready",
    async (attribute) => {
      const tableName = await createMistyped({ [attribute]: "N" });
      const problem = `its key attribute ${attribute} must be a string (S), not N`;

      const error = await ensureTable(client, { tableName }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error).toMatchObject({ code: "table.invalid" });
      expect((error as Error).message).toContain(problem);

      expect(await cli(["--region", "local", "--table", tableName, "table", "ensure"])).toEqual({
        code: 1,
        stdout: "",
        stderr: `error: table ${tableName} cannot serve the saga store: ${problem} [table.invalid]\n`,
      });

      const described = await cli(["--region", "local", "--table", tableName, "table", "describe"]);
      // Not ready: exit code 3, so that a deployment check stops (docs/cli.md).
      expect(described.code).toBe(3);
      expect(described.stdout).toContain(`\n${"store".padEnd(12)}not ready: ${problem}\n`);
      const json = await cli([
        "--region",
        "local",
        "--table",
        tableName,
        "table",
        "describe",
        "--json",
      ]);
      expect(JSON.parse(json.stdout)).toMatchObject({
        store: { ready: false, problems: [problem] },
      });
    },
  );

  it("an attribute the missing cleanup index needs, declared N by another index, is refused before any UpdateTable", async () => {
    const tableName = await createMistyped({ GSI2PK: "N" }, (input) => ({
      ...input,
      AttributeDefinitions: input.AttributeDefinitions?.filter((a) => a.AttributeName !== "GSI2SK"),
      GlobalSecondaryIndexes: [
        input.GlobalSecondaryIndexes![0]!,
        {
          IndexName: "ByNumber",
          KeySchema: [{ AttributeName: "GSI2PK", KeyType: "HASH" }],
          Projection: { ProjectionType: "KEYS_ONLY" },
        },
      ],
    }));
    const { client: recorder, sent } = recordingTableClient(send);
    const error = await ensureTable(recorder, { tableName }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: "table.invalid" });
    expect((error as Error).message).toContain("GSI2PK must be a string (S), not N");
    expect(sent.some((command) => command instanceof UpdateTableCommand)).toBe(false);
    expect(Object.keys(await indexStatuses(tableName)).sort()).toEqual(["ByNumber", "GSI1"]);
  });
});
