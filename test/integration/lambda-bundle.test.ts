/**
 * The Lambda example (examples/lambda), bundled by its build script into one file in a folder
 * of the system's temp directory, where no node_modules can be found, and run in a child Node
 * process against DynamoDB Local, fed SQS events the way Lambda's SQS event source mapping
 * feeds them: records of a batch at once, the ones the handler reports in `batchItemFailures`
 * delivered again with a higher receive count.
 *
 * Two messages of one saga in one batch race: one update wins and the other meets a version
 * conflict. The store was handed core's classes (`retryableErrors`; here the stand-in core,
 * test/fixtures/core-standin, bundled in), so the conflict is an instance of core's own
 * `ConcurrencyError`, which is what saga-bus checks with `instanceof`: the record is retried
 * and its second delivery succeeds.
 */
import { execFile } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDynamoDBSagaStore, sendVia, type SagaState } from "../../src";
import { LOCAL_CLIENT_CONFIG } from "../../scripts/dynamodb-local";
import { createLocalTable, localEndpoint, type LocalTable } from "../support/local-table";

const ROOT = join(__dirname, "..", "..");
const CHILD_TIMEOUT_MS = 60_000;

/** An SQS message as the test sends it. */
interface Sent {
  readonly messageId: string;
  readonly body: string;
}

/** One line the handler logs per record. */
interface RecordLog {
  readonly messageId: string;
  readonly receiveCount: number;
  readonly kind: "started" | "applied" | "duplicate" | "ignored" | "retry" | "dead-letter";
  readonly version?: number;
  readonly completed?: boolean;
  readonly error?: string;
  readonly retryableAs?: string;
}

/** One invocation of the handler, as the runner reports it, with the records it logged. */
interface Invocation {
  readonly messageIds: readonly string[];
  readonly failures: readonly string[];
  readonly records: readonly RecordLog[];
}

/**
 * The runner, an ES module beside the bundle: Lambda's SQS poller reduced to what matters
 * here. Each batch goes to the handler at once; the records it reports as failures are
 * delivered again (alone, with the next receive count), at most five times.
 */
const RUNNER = `
import { handler } from "./handler.mjs";

const batches = JSON.parse(process.argv[2]);
const receiveCounts = new Map();

const invoke = async (messages) => {
  const Records = messages.map(({ messageId, body }) => {
    const count = (receiveCounts.get(messageId) ?? 0) + 1;
    receiveCounts.set(messageId, count);
    return { messageId, body, attributes: { ApproximateReceiveCount: String(count) } };
  });
  const response = await handler({ Records });
  const failures = response.batchItemFailures.map((failure) => failure.itemIdentifier);
  console.log(JSON.stringify({ invocation: true, messageIds: messages.map((m) => m.messageId), failures }));
  return messages.filter((message) => failures.includes(message.messageId));
};

for (const batch of batches) {
  let again = await invoke(batch);
  for (let round = 0; again.length > 0 && round < 5; round++) again = await invoke(again);
}
`;

const run = (
  file: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv },
): Promise<{ readonly stdout: string; readonly stderr: string }> =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [file, ...args],
      { ...options, timeout: CHILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error === null
          ? resolve({ stdout, stderr })
          : reject(new Error(`${file} failed: ${error.message}\n${stdout}\n${stderr}`)),
    );
  });

/** Groups the handler's record lines under the invocation line the runner prints after them. */
const invocationsOf = (stdout: string): Invocation[] => {
  const invocations: Invocation[] = [];
  let records: RecordLog[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const parsed = JSON.parse(line) as
      | (RecordLog & { readonly invocation?: undefined })
      | { readonly invocation: true; readonly messageIds: string[]; readonly failures: string[] };
    if (parsed.invocation === true) {
      invocations.push({ messageIds: parsed.messageIds, failures: parsed.failures, records });
      records = [];
    } else {
      records.push(parsed);
    }
  }
  return invocations;
};

const message = (messageId: string, body: Record<string, unknown>): Sent => ({
  messageId,
  body: JSON.stringify(body),
});

/** Orders whose payment and shipment arrive in one batch: each pair races for its saga. */
const RACING_ORDERS = ["o-1", "o-2", "o-3", "o-4", "o-5"];

const BATCHES: ReadonlyArray<readonly Sent[]> = [
  ...RACING_ORDERS.flatMap((orderId) => [
    [message(`${orderId}-placed`, { type: "OrderPlaced", orderId, total: 42 })],
    [
      message(`${orderId}-paid`, { type: "PaymentCaptured", orderId }),
      message(`${orderId}-shipped`, { type: "OrderShipped", orderId }),
    ],
  ]),
  // Two starts of one saga at once (a duplicate publish): both find no saga, both insert,
  // and the loser meets the correlation id taken, also a ConcurrencyError.
  [
    message("o-6-placed", { type: "OrderPlaced", orderId: "o-6", total: 7 }),
    message("o-6-placed-again", { type: "OrderPlaced", orderId: "o-6", total: 7 }),
  ],
];

interface OrderState extends SagaState {
  readonly orderId: string;
  readonly paidAt: Date | null;
  readonly shippedAt: Date | null;
  readonly applied: readonly string[];
}

let table: LocalTable;
let work: string;
let app: string;
let invocations: Invocation[];

beforeAll(async () => {
  if (!existsSync(join(ROOT, "dist/esm/index.js"))) {
    throw new Error("dist/ is missing: run `npm run build` first (npm test builds before jest)");
  }
  table = await createLocalTable();
  work = mkdtempSync(join(tmpdir(), "lambda-bundle-"));
  // Core is found only while bundling, from this folder; the app folder holds two files.
  const coreHome = join(work, "core");
  mkdirSync(join(coreHome, "node_modules/@saga-bus"), { recursive: true });
  cpSync(join(ROOT, "test/fixtures/core-standin"), join(coreHome, "node_modules/@saga-bus/core"), {
    recursive: true,
  });
  app = join(work, "app");
  mkdirSync(app);
  await run(
    join(ROOT, "examples/lambda/build.mjs"),
    ["--outfile", join(app, "handler.mjs"), "--core", coreHome],
    { cwd: ROOT, env: process.env },
  );
  rmSync(coreHome, { recursive: true, force: true });
  writeFileSync(join(app, "runner.mjs"), RUNNER);

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: work,
    TABLE_NAME: table.tableName,
    DYNAMODB_ENDPOINT: localEndpoint(),
    // DynamoDB Local keeps one database per access key and region: the test table's.
    AWS_REGION: LOCAL_CLIENT_CONFIG.region,
    AWS_ACCESS_KEY_ID: LOCAL_CLIENT_CONFIG.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CLIENT_CONFIG.credentials.secretAccessKey,
  };
  const { stdout } = await run(join(app, "runner.mjs"), [JSON.stringify(BATCHES)], {
    cwd: app,
    env,
  });
  invocations = invocationsOf(stdout);
}, CHILD_TIMEOUT_MS * 2);

afterAll(async () => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
  await table?.drop();
});

const recordsOf = (messageId: string): RecordLog[] =>
  invocations.flatMap((invocation) => invocation.records).filter((r) => r.messageId === messageId);

describe("the Lambda example, bundled", () => {
  it("runs from a folder with nothing but the bundle and the runner, no node_modules in reach", () => {
    expect(readdirSync(app).sort()).toEqual(["handler.mjs", "runner.mjs"]);
    const resolveFromApp = createRequire(join(app, "runner.mjs")).resolve;
    expect(() => resolveFromApp("@aws-sdk/client-dynamodb")).toThrow();
    expect(() => resolveFromApp("@saga-bus/core")).toThrow();
    expect(() => resolveFromApp("fp-ts/lib/Either.js")).toThrow();
    expect(invocations.length).toBeGreaterThanOrEqual(BATCHES.length);
  });

  it("meets a version conflict when two messages of one saga run at once, and retries it as core's ConcurrencyError", () => {
    const conflicts = RACING_ORDERS.flatMap((orderId) => [
      ...recordsOf(`${orderId}-paid`),
      ...recordsOf(`${orderId}-shipped`),
    ]).filter((record) => record.kind === "retry");
    expect(conflicts.length).toBeGreaterThan(0);
    for (const conflict of conflicts) {
      // The handler retries only what is `instanceof` core's classes; the message is the one
      // the stand-in's constructor writes, so the store built the error with core's class.
      expect(conflict).toMatchObject({ receiveCount: 1, retryableAs: "ConcurrencyError" });
      expect(conflict.error).toMatch(/^ConcurrencyError: .*\(esm stand-in\)$/);
      const invocation = invocations.find((i) =>
        i.records.some((r) => r.messageId === conflict.messageId && r.kind === "retry"),
      );
      expect(invocation?.failures).toEqual([conflict.messageId]);
      // The second delivery succeeds.
      expect(recordsOf(conflict.messageId)).toEqual([
        conflict,
        expect.objectContaining({ kind: "applied", receiveCount: 2, version: 3, completed: true }),
      ]);
    }
  });

  it("retries the loser of two starts of one saga and applies it on its second delivery", () => {
    const records = [...recordsOf("o-6-placed"), ...recordsOf("o-6-placed-again")];
    // Usually the two starts race and one loses its insert; on a slow machine the second may
    // find the saga and update it first, and then the first's follow-up update is the one that
    // conflicts. Either way at most one start is recorded, at most one delivery is retried, and
    // the last test finds one saga with both messages applied.
    expect(records.filter((r) => r.kind === "started").length).toBeLessThanOrEqual(1);
    const lost = records.filter((r) => r.kind === "retry");
    expect(lost.length).toBeLessThanOrEqual(1);
    for (const loser of lost) {
      expect(loser).toMatchObject({ retryableAs: "ConcurrencyError", receiveCount: 1 });
      expect(recordsOf(loser.messageId ?? "")).toContainEqual(
        expect.objectContaining({ kind: "applied", receiveCount: 2, version: 2 }),
      );
    }
  });

  it("dead-letters nothing, and every saga ends as the messages say", async () => {
    const all = invocations.flatMap((i) => i.records);
    expect(all.filter((r) => r.kind === "dead-letter")).toEqual([]);
    expect(invocations.at(-1)?.failures).toEqual([]);

    const store = createDynamoDBSagaStore<OrderState>({
      send: sendVia(table.docClient),
      tableName: table.tableName,
    });
    for (const orderId of RACING_ORDERS) {
      const saga = await store.getByCorrelationId("OrderSaga", orderId);
      expect(saga?.metadata).toMatchObject({ version: 3, isCompleted: true });
      expect(saga?.paidAt).toBeInstanceOf(Date);
      expect(saga?.shippedAt).toBeInstanceOf(Date);
      expect([...(saga?.applied ?? [])].sort()).toEqual(
        [`${orderId}-paid`, `${orderId}-placed`, `${orderId}-shipped`].sort(),
      );
    }
    const started = await store.getByCorrelationId("OrderSaga", "o-6");
    expect(started?.metadata.version).toBe(2);
    expect([...(started?.applied ?? [])].sort()).toEqual(["o-6-placed", "o-6-placed-again"]);
  });
});
