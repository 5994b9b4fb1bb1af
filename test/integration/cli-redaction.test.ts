/**
 * The command line never prints the user name or password of an `--endpoint` URL: not in
 * error lines, usage errors, stack traces or reports (run in-process on DynamoDB Local).
 */
import { randomUUID } from "node:crypto";
import { deleteTable } from "../../src";
import { runCli } from "../support/cli";
import { localClient, localEndpoint } from "../support/local-table";

const USER = "alice-user";
const PASSWORD = "s3cret-pw";

/** `url` with the test's user name and password in it. */
const withCredentials = (url: string): string => url.replace("://", `://${USER}:${PASSWORD}@`);

/** Runs the tool in-process with captured output. */
const cli = (args: readonly string[]) => runCli(["--region", "local", ...args]);

/** Neither output names the user or the password. */
const expectNoCredentials = (out: { stdout: string; stderr: string }): void => {
  for (const text of [out.stdout, out.stderr]) {
    expect(text).not.toContain(USER);
    expect(text).not.toContain(PASSWORD);
  }
};

const savedEnv = { ...process.env };
const tableName = `redaction-${randomUUID()}`;

beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = "local";
  process.env.AWS_SECRET_ACCESS_KEY = "local";
});
afterAll(async () => {
  const client = localClient();
  await deleteTable(client, tableName);
  client.destroy();
  process.env = savedEnv;
});

it("an endpoint nothing answers on is named without its credentials, also under --debug", async () => {
  const endpoint = withCredentials("http://127.0.0.1:9");
  const out = await cli(["--endpoint", endpoint, "table", "describe"]);
  expect(out).toEqual({
    code: 1,
    stdout: "",
    stderr: expect.stringMatching(
      /^error: cannot reach DynamoDB at http:\/\/\*\*\*@127\.0\.0\.1:9 \([^\n]*ECONNREFUSED[^\n]*\)\n$/,
    ),
  });
  const debug = await cli(["--endpoint", endpoint, "--debug", "table", "describe"]);
  expect(debug.code).toBe(1);
  expect(debug.stderr).toMatch(/^\s+at /m);
  expectNoCredentials(debug);
});

it("an unknown host is named without its credentials", async () => {
  const out = await cli([
    "--endpoint",
    withCredentials("http://nowhere.invalid"),
    "table",
    "describe",
  ]);
  expect(out.code).toBe(1);
  expect(out.stderr).toContain("cannot reach DynamoDB at http://***@nowhere.invalid");
  expectNoCredentials(out);
});

it("DynamoDB Local reached through an endpoint with credentials: ensure, describe and a missing table print none", async () => {
  const endpoint = withCredentials(localEndpoint());
  const ensured = await cli(["--endpoint", endpoint, "--table", tableName, "table", "ensure"]);
  expect(ensured).toEqual({ code: 0, stdout: `created table ${tableName}\n`, stderr: "" });
  for (const args of [
    ["table", "describe"],
    ["table", "describe", "--json"],
  ]) {
    const described = await cli(["--endpoint", endpoint, "--table", tableName, ...args]);
    expect(described.code).toBe(0);
    expectNoCredentials(described);
  }
  const missing = await cli([
    "--endpoint",
    endpoint,
    "--table",
    "no-such-table",
    "--debug",
    "table",
    "describe",
  ]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^error: table "no-such-table" does not exist/);
  expectNoCredentials(missing);
});

it.each([
  [
    "an endpoint that is not http(s)",
    ["--endpoint", withCredentials("ftp://host"), "table", "describe"],
    '"ftp://***@host"',
  ],
  [
    "an endpoint without a scheme",
    ["--endpoint", `${USER}:${PASSWORD}@host:8000`, "table", "describe"],
    '"***@host:8000"',
  ],
  ["a URL where a command belongs", [withCredentials("http://host")], "'http://***@host'"],
])("a usage error about %s prints it without credentials", async (_what, args, shown) => {
  const out = await cli(args);
  expect(out.code).toBe(2);
  expect(out.stderr).toContain(shown);
  expectNoCredentials(out);
});
