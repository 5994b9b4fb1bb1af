/**
 * Every request of the CLI passes the request seam: under `--debug` the tool's observer prints
 * one line per request (operation, DynamoDB command, outcome, time), for the control plane, the
 * store and the dry-run scan alike. Runs the built CLI against DynamoDB Local.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join, resolve } from "node:path";

const BIN = join(resolve(__dirname, "../.."), "dist", "cjs", "cli", "main.js");

const cli = (args: readonly string[]) =>
  spawnSync(
    process.execPath,
    [BIN, "--endpoint", process.env.DYNAMODB_ENDPOINT!, "--region", "local", "--debug", ...args],
    {
      encoding: "utf8",
      env: { ...process.env, AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" },
      timeout: 60_000,
    },
  );

const requests = (stderr: string) =>
  stderr
    .split("\n")
    .filter((line) => line.startsWith("request "))
    .map((line) => line.replace(/ \d+ ms$/, ""));

it("prints each request of table ensure, show and a cleanup dry run, with its operation", () => {
  const table = `cli-debug-${randomUUID()}`;
  const ensure = cli(["--table", table, "table", "ensure"]);
  expect(ensure.status).toBe(0);
  const ensureLines = requests(ensure.stderr);
  expect(ensureLines).toContain("request table ensure DescribeTable ok");
  expect(ensureLines.some((l) => l.startsWith("request table ensure CreateTable"))).toBe(true);

  const show = cli(["--table", table, "show", "--saga", "OrderSaga", "--correlation", "o-1"]);
  expect(requests(show.stderr)).toEqual(
    expect.arrayContaining([
      "request getByCorrelationId OrderSaga GetItem ok",
      "request legacyCheck OrderSaga Query ok",
    ]),
  );

  const dry = cli([
    "--table",
    table,
    "cleanup",
    "--saga",
    "OrderSaga",
    "--older-than",
    "1d",
    "--dry-run",
  ]);
  expect(dry.status).toBe(0);
  expect(requests(dry.stderr)).toContain("request cleanup Scan ok");

  expect(cli(["--table", table, "table", "delete", "--yes"]).status).toBe(0);
});
