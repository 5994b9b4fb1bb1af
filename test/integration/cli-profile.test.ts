/**
 * The built command (`node dist/cjs/cli/main.js`) finds its region and credentials as AWS
 * tools do: `--region`, else `AWS_REGION`, else the profile's `region` in ~/.aws/config;
 * `--profile` or `AWS_PROFILE` picks the profile. Run with HOME at a temporary folder and
 * against DynamoDB Local, which keeps one database per access key and region: a table the
 * tool created shows which region and credentials it used.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { deleteTable } from "../../src";
import { localEndpoint } from "../support/local-table";

const ROOT = join(__dirname, "..", "..");
const BIN = join(ROOT, "dist", "cjs", "cli", "main.js");

/** Two profiles, each with its own region and access key (DynamoDB Local takes only letters and digits). */
const PROFILES = {
  default: { region: "eu-west-3", accessKeyId: "clidefaultkey" },
  ops: { region: "ap-south-1", accessKeyId: "cliopskey" },
} as const;

const CONFIG = `[default]
region = ${PROFILES.default.region}
aws_access_key_id = ${PROFILES.default.accessKeyId}
aws_secret_access_key = secret

[profile ops]
region = ${PROFILES.ops.region}
aws_access_key_id = ${PROFILES.ops.accessKeyId}
aws_secret_access_key = secret
`;

/** What the SDK prints on Node.js < 22 unless its switch is on. */
const SDK_NOTICE = /NodeVersionSupportWarning|will require node >=/;

let home: string;
let emptyHome: string;

beforeAll(() => {
  if (!existsSync(BIN)) {
    throw new Error(`${BIN} is missing: run \`npm run build\` first (npm test builds before jest)`);
  }
  home = mkdtempSync(join(tmpdir(), "cli-profile-"));
  mkdirSync(join(home, ".aws"));
  writeFileSync(join(home, ".aws", "config"), CONFIG);
  emptyHome = mkdtempSync(join(tmpdir(), "cli-no-profile-"));
});
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(emptyHome, { recursive: true, force: true });
});

/**
 * The environment of a shell with nothing of AWS set: no region, profile, credentials,
 * config file location or SDK switch of the test run's own leaks into the tool.
 */
const cleanEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("AWS_") && key !== "SAGA_TABLE" && key !== "NODE_OPTIONS") env[key] = value;
  }
  return { ...env, HOME: home, ...extra };
};

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built tool against DynamoDB Local in `env`. */
const cli = (args: readonly string[], env: Record<string, string> = {}): Promise<Outcome> =>
  new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, "--endpoint", localEndpoint(), ...args],
      { env: cleanEnv(env), timeout: 60_000 },
      (error, stdout, stderr) =>
        done({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : -1,
          stdout,
          stderr,
        }),
    );
  });

/** A client of DynamoDB Local's database for this access key and region. */
const clientFor = (region: string, accessKeyId: string): DynamoDBClient =>
  new DynamoDBClient({
    endpoint: localEndpoint(),
    region,
    credentials: { accessKeyId, secretAccessKey: "secret" },
  });

/** The tables of DynamoDB Local's database for this access key and region. */
const tablesOf = async (region: string, accessKeyId: string): Promise<string[]> => {
  const client = clientFor(region, accessKeyId);
  try {
    return (await client.send(new ListTablesCommand({}))).TableNames ?? [];
  } finally {
    client.destroy();
  }
};

/** Creates a table with the tool, checks where it went, and deletes it. */
const expectCreatedIn = async (
  args: readonly string[],
  env: Record<string, string>,
  region: string,
  accessKeyId: string,
): Promise<void> => {
  const name = `cli-profile-${randomUUID()}`;
  const created = await cli(["--table", name, ...args, "table", "create", "--json"], env);
  expect(created).toMatchObject({ code: 0, stderr: "" });
  try {
    expect(await tablesOf(region, accessKeyId)).toContain(name);
    const described = await cli(["--table", name, ...args, "table", "describe", "--json"], env);
    expect(described.code).toBe(0);
    expect(JSON.parse(described.stdout)).toMatchObject({ tableName: name, region });
  } finally {
    const client = clientFor(region, accessKeyId);
    await deleteTable(client, name);
    client.destroy();
  }
};

describe("region and credentials", () => {
  it("come from the default profile of ~/.aws/config, not us-east-1", async () => {
    await expectCreatedIn([], {}, PROFILES.default.region, PROFILES.default.accessKeyId);
  });

  it("come from the profile --profile names", async () => {
    await expectCreatedIn(["--profile", "ops"], {}, PROFILES.ops.region, PROFILES.ops.accessKeyId);
  });

  it("come from the profile AWS_PROFILE names", async () => {
    await expectCreatedIn(
      [],
      { AWS_PROFILE: "ops" },
      PROFILES.ops.region,
      PROFILES.ops.accessKeyId,
    );
  });

  it("AWS_REGION comes before the profile's region, and --region before both", async () => {
    const { accessKeyId } = PROFILES.ops;
    await expectCreatedIn(
      ["--profile", "ops"],
      { AWS_REGION: "ca-central-1" },
      "ca-central-1",
      accessKeyId,
    );
    await expectCreatedIn(
      ["--profile", "ops", "--region", "sa-east-1"],
      { AWS_REGION: "ca-central-1" },
      "sa-east-1",
      accessKeyId,
    );
  });

  it("no region anywhere is a usage error that says where to set one", async () => {
    const out = await cli(["table", "describe"], {
      HOME: emptyHome,
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
    });
    expect(out).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'error: no AWS region: pass --region, set AWS_REGION, or set region in profile "default" of ~/.aws/config\n',
    });
  });
});

describe("the SDK's Node.js version notice", () => {
  it("is not printed by the tool", async () => {
    const name = `cli-notice-${randomUUID()}`;
    const out = await cli(["--table", name, "table", "describe"]);
    expect(out.code).toBe(1); // the table does not exist: the SDK client did run
    expect(out.stderr).toMatch(/^error: table "[^"]+" does not exist/);
    expect(out.stderr).not.toMatch(SDK_NOTICE);
  });

  it("is left alone for applications that use the package", async () => {
    const script = [
      `require(${JSON.stringify(join(ROOT, "dist", "cjs", "index.js"))});`,
      `process.stdout.write(String(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED));`,
    ].join("\n");
    const out = await new Promise<string>((done, fail) =>
      execFile(process.execPath, ["-e", script], { env: cleanEnv({}) }, (error, stdout) =>
        error === null ? done(stdout) : fail(error),
      ),
    );
    expect(out).toBe("undefined");
  });
});
