/**
 * Three projects: unit tests (fake `send`, no server), integration tests (DynamoDB Local) and
 * the load test (DynamoDB Local, minutes; not part of `npm test`).
 */
const shared = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.test.json" }] },
  // Sources import "./x.js" (what Node's ESM needs); tests resolve them to the .ts files.
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  projects: [
    { ...shared, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    {
      ...shared,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      globalSetup: "<rootDir>/test/support/global-setup.ts",
      globalTeardown: "<rootDir>/test/support/global-teardown.ts",
    },
    // Long: run by `npm run test:load` (and CI), not by `npm test`.
    {
      ...shared,
      displayName: "load",
      testMatch: ["<rootDir>/test/load/**/*.test.ts"],
      globalSetup: "<rootDir>/test/support/global-setup.ts",
      globalTeardown: "<rootDir>/test/support/global-teardown.ts",
    },
  ],
};
