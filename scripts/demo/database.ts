/**
 * The DynamoDB the demo runs against: a DynamoDB Local it starts itself (default), or an
 * existing endpoint (`--endpoint`), where it creates a table of its own and deletes it at
 * the end (unless `--keep`).
 *
 * @packageDocumentation
 */
import { randomBytes } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { deleteTable, ensureTable, waitForTable, type TableChange } from "../../src/index.js";
import { LOCAL_CLIENT_CONFIG, startDynamoDBLocal } from "../dynamodb-local.js";
import type { Teardown } from "./lifecycle.js";

/** Options of {@link openDatabase}. */
export interface DatabaseOptions {
  /** An existing DynamoDB; absent: start DynamoDB Local. */
  readonly endpoint?: string;
  readonly region: string;
  /** Leave the table of an existing endpoint in place. */
  readonly keep: boolean;
  /** Requests the demo may have in flight at once (sizes the HTTP connection pool). */
  readonly maxSockets: number;
  /** Ctrl-C: stop after the current step. */
  readonly signal?: AbortSignal;
}

/** A DynamoDB with the demo's table in it. */
export interface DemoDatabase {
  readonly endpoint: string;
  /** Where the demo runs, for the summary. */
  readonly description: string;
  readonly startedLocal: boolean;
  readonly client: DynamoDBClient;
  readonly docClient: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Time to start DynamoDB Local (0 with `--endpoint`). */
  readonly startupMs: number;
  /** Time of `ensureTable`. */
  readonly tableMs: number;
  readonly tableChanges: readonly TableChange[];
  /** What happens to the table at the end. */
  readonly tableFate: string;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** The fixed dummy credentials of DynamoDB Local, for a loopback endpoint and no credentials. */
const credentialsFor = (endpoint: string) => {
  const hasOwn =
    process.env.AWS_ACCESS_KEY_ID !== undefined || process.env.AWS_PROFILE !== undefined;
  return !hasOwn && LOOPBACK.has(new URL(endpoint).hostname)
    ? { credentials: LOCAL_CLIENT_CONFIG.credentials }
    : {};
};

const isResourceInUse = (error: unknown): boolean =>
  (error as { name?: unknown } | null)?.name === "ResourceInUseException";

/**
 * Starts DynamoDB Local or connects to `endpoint`, and makes sure the demo's table exists.
 * Everything it starts or creates is registered with `teardown`, from the moment it exists.
 */
export const openDatabase = async (
  options: DatabaseOptions,
  teardown: Teardown,
  log: (line: string) => void,
): Promise<DemoDatabase> => {
  let endpoint = options.endpoint;
  let startupMs = 0;
  const startedLocal = endpoint === undefined;
  if (endpoint === undefined) {
    log("Starting DynamoDB Local (in memory)…");
    const started = Date.now();
    const starting = startDynamoDBLocal();
    // Registered before it is up, so that Ctrl-C during the start still stops it.
    teardown.add("stop DynamoDB Local", async () => {
      const local = await starting.catch(() => undefined);
      if (local === undefined) return;
      await local.stop();
      log("Stopped DynamoDB Local");
    });
    const local = await starting;
    options.signal?.throwIfAborted();
    teardown.addLastResort(() => {
      if (local.process.exitCode === null && local.process.signalCode === null) {
        local.process.kill("SIGKILL");
      }
    });
    endpoint = local.endpoint;
    startupMs = Date.now() - started;
    log(`DynamoDB Local is up at ${endpoint} (${(startupMs / 1000).toFixed(1)} s)`);
  }

  const httpAgent = { keepAlive: true, maxSockets: Math.max(50, options.maxSockets) };
  const client = new DynamoDBClient({
    ...(startedLocal ? LOCAL_CLIENT_CONFIG : { region: options.region }),
    ...(startedLocal ? {} : credentialsFor(endpoint)),
    endpoint,
    requestHandler: { httpAgent, httpsAgent: httpAgent },
  });
  teardown.add("close the DynamoDB client", () => client.destroy());
  const docClient = DynamoDBDocumentClient.from(client);

  // DynamoDB Local runs in memory and goes away with the demo; an existing DynamoDB gets a
  // table of its own, so the demo never touches anything else.
  const tableName = startedLocal
    ? "saga-demo"
    : `saga-demo-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const deleteAtEnd = !startedLocal && !options.keep;
  if (deleteAtEnd) {
    teardown.add(`delete table ${tableName}`, async () => {
      try {
        await deleteTable(client, tableName, 60);
      } catch (error) {
        if (!isResourceInUse(error)) throw error;
        // Interrupted while the table was being created: wait until it can be deleted.
        await waitForTable(client, tableName, { maxWaitSeconds: 60 });
        await deleteTable(client, tableName, 60);
      }
      log(`Deleted table ${tableName}`);
    });
  }

  log(`Creating table ${tableName}…`);
  const tableStarted = Date.now();
  const tableChanges = await ensureTable(client, { tableName });
  options.signal?.throwIfAborted();
  const tableMs = Date.now() - tableStarted;
  log(`Table ${tableName} is ready (${(tableMs / 1000).toFixed(1)} s)`);

  return {
    endpoint,
    description: startedLocal
      ? `DynamoDB Local ${endpoint} (started by the demo, in memory)`
      : `${endpoint} (region ${options.region})`,
    startedLocal,
    client,
    docClient,
    tableName,
    startupMs,
    tableMs,
    tableChanges,
    tableFate: startedLocal
      ? "gone with DynamoDB Local"
      : deleteAtEnd
        ? "deleted at the end"
        : "kept, as --keep asks",
  };
};
