#!/usr/bin/env node
/** Entry point of the `saga-store-dynamodb` command (package.json `bin`). */
// First: it must run before any module that loads the AWS SDK.
import "./sdk-notice.js";
import { run } from "./program.js";

void run(process.argv).then((code) => {
  process.exitCode = code;
});
