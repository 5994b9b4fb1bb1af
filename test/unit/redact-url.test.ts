/** `redactUrl` and `redactUrls`: what the command line prints instead of credentials in URLs. */
import { redactUrl, redactUrls } from "../../src/cli/redact";

describe("redactUrl", () => {
  it.each([
    ["http://alice:s3cret@localhost:8000", "http://***@localhost:8000"],
    ["https://alice@dynamodb.example.com/", "https://***@dynamodb.example.com/"],
    ["http://:s3cret@host", "http://***@host"],
    ["http://alice:p@ss@host:8000/x?y=1", "http://***@host:8000/x?y=1"],
    ["http://alice:s%40cret@host", "http://***@host"],
    // Not valid URLs (the tool prints them when refusing them): up to the last @ goes.
    ["http://alice:pa/ss@host", "http://***@host"],
    ["ftp://alice:s3cret@host", "ftp://***@host"],
    ["alice:s3cret@host:8000", "***@host:8000"],
  ])("%s is printed as %s", (url, printed) => {
    expect(redactUrl(url)).toBe(printed);
  });

  it.each([
    "http://localhost:8000",
    "http://127.0.0.1:9",
    "https://dynamodb.us-east-1.amazonaws.com/a@b",
    "file:///app/node_modules/@aws-sdk/core/index.js",
    "localhost:8000",
  ])("leaves %s without userinfo as written", (url) => {
    expect(redactUrl(url)).toBe(url);
  });
});

describe("redactUrls", () => {
  it("redacts every URL in a text and nothing else", () => {
    expect(
      redactUrls(
        'error: cannot reach http://alice:s3cret@host:1 (see "https://bob:pw@x/y"), user@example.com',
      ),
    ).toBe('error: cannot reach http://***@host:1 (see "https://***@x/y"), user@example.com');
  });
});
