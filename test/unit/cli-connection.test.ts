/**
 * What the command line hands the AWS SDK, and how it reports failures of a command that had
 * a client: without a server (the SDK's own resolution is in cli-profile.test.ts).
 */
import { clientConfig, withConnection } from "../../src/cli/context";
import {
  CliError,
  ExitCode,
  RegionalFailure,
  errorLine,
  exitCodeOf,
  debugDetails,
} from "../../src/cli/errors";
import { checkGlobalOptions } from "../../src/cli/options";

describe("clientConfig", () => {
  it("passes no region of its own, so the SDK reads AWS_REGION and the profile", () => {
    expect(clientConfig({ table: "orders" })).toEqual({});
  });

  it("passes --region, --profile and --endpoint as given", () => {
    expect(
      clientConfig({
        table: "orders",
        region: "eu-west-1",
        profile: "ops",
        endpoint: "http://localhost:8000",
      }),
    ).toEqual({ region: "eu-west-1", profile: "ops", endpoint: "http://localhost:8000" });
  });
});

describe("withConnection", () => {
  const saved = process.env.AWS_PROFILE;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_PROFILE;
    else process.env.AWS_PROFILE = saved;
  });

  it("makes --profile the process's AWS_PROFILE while the command runs (SDKs before 3.714 read only that)", async () => {
    process.env.AWS_PROFILE = "before";
    const options = { table: "orders", region: "eu-west-1", profile: "ops" };
    const seen = await withConnection(options, async ({ region }) => ({
      region,
      profile: process.env.AWS_PROFILE,
    }));
    expect(seen).toEqual({ region: "eu-west-1", profile: "ops" });
    expect(process.env.AWS_PROFILE).toBe("before");

    delete process.env.AWS_PROFILE;
    await expect(
      withConnection(options, () => Promise.reject(new Error("refused"))),
    ).rejects.toThrow(RegionalFailure);
    expect(process.env.AWS_PROFILE).toBeUndefined();
  });
});

describe("checkGlobalOptions", () => {
  it("takes no region, and refuses an empty profile and a malformed region", () => {
    expect(() => checkGlobalOptions({ table: "orders" })).not.toThrow();
    expect(() => checkGlobalOptions({ table: "orders", profile: " " })).toThrow(
      /^--profile needs the name of a profile/,
    );
    expect(() => checkGlobalOptions({ table: "orders", region: "EU West" })).toThrow(
      /^--region must be an AWS region/,
    );
  });
});

describe("RegionalFailure", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), {
    code: "ECONNREFUSED",
  });

  it("names the region the SDK resolved when no endpoint was given", () => {
    expect(errorLine(new RegionalFailure("eu-west-3", refused))).toBe(
      "cannot reach DynamoDB at the endpoint of region eu-west-3 (connect ECONNREFUSED 10.0.0.1:443)",
    );
  });

  it("keeps the exit code, the line and the stack of what it wraps", () => {
    const notReady = new CliError("table t is not ready for the store: x", ExitCode.notReady);
    const wrapped = new RegionalFailure("eu-west-3", notReady);
    expect(exitCodeOf(wrapped)).toBe(3);
    expect(errorLine(wrapped)).toBe("table t is not ready for the store: x");
    expect(debugDetails(wrapped)).toBe(notReady.stack);
    expect(exitCodeOf(new RegionalFailure("eu-west-3", refused))).toBe(ExitCode.failure);
  });
});
