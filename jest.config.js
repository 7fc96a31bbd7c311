// Two projects: fast unit tests, and integration tests that need the moto emulator
// (started once by globalSetup, stopped by PID in globalTeardown).
const transform = {
  "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" } }],
};
const common = {
  transform,
  testEnvironment: "node",
  moduleFileExtensions: ["ts", "js", "json"],
};
/** @type {import('jest').Config} */
module.exports = {
  cacheDirectory: "<rootDir>/.jest-cache",
  // Integration suites talk to the emulator and terraform; unit tests finish far sooner.
  testTimeout: 120000,
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/unit/**/*.test.ts"] },
    {
      ...common,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      globalSetup: "<rootDir>/test/harness/global-setup.ts",
      globalTeardown: "<rootDir>/test/harness/global-teardown.ts",
    },
  ],
};
