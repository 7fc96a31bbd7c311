#!/usr/bin/env node
// The `logrelay` command in a clone (`npx logrelay ...`): runs the TypeScript CLI through tsx.
require("tsx/cjs");
require("../cli/main.ts");
