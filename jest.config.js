// Two projects: fast unit tests, and integration tests that need the moto emulator
// (started once by globalSetup, stopped by PID in globalTeardown).
const transform = {
  "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" } }],
  // hyparquet ships ES modules only; jest loads CommonJS.
  "/node_modules/hyparquet(-writer)?/.+\\.js$": ["@swc/jest", { jsc: { target: "es2022" } }],
};
const common = {
  transform,
  transformIgnorePatterns: ["/node_modules/(?!hyparquet(-writer)?/)"],
  testEnvironment: "node",
  moduleFileExtensions: ["ts", "js", "json"],
};
// The AWS SDK's notice that its releases after early January 2027 need Node 22 (README says so in
// its prerequisites) would otherwise repeat in every worker and every CLI a test starts, which
// inherit this environment.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
/** @type {import('jest').Config} */
module.exports = {
  cacheDirectory: "<rootDir>/.jest-cache",
  // At least two workers even on 2 cores: the terraform suites mostly wait on provider waiters,
  // so the two applies overlap (measured: 7.4 -> 4.4 minutes on 2 cores).
  maxWorkers: Math.max(2, require("node:os").cpus().length - 1),
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
