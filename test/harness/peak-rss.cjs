// Preloaded with `node --require`: when the process exits, writes its peak resident set size
// (VmHWM, in kB) to the file named by PEAK_RSS_FILE.
const { readFileSync, writeFileSync } = require("node:fs");

process.on("exit", () => {
  const file = process.env.PEAK_RSS_FILE;
  const peak = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  if (file && peak) writeFileSync(file, peak[1]);
});
