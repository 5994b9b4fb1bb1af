#!/usr/bin/env node
/** Entry point of the `saga-store-dynamodb` command (package.json `bin`). */
import { run } from "./program.js";

void run(process.argv).then((code) => {
  process.exitCode = code;
});
