import { functionNodeOptions, LAMBDA_MB_PER_VCPU } from "../../../../stacks/constructs/nodejs-function";

describe("functionNodeOptions", () => {
  it("sizes V8's heap to the function's memory", () => {
    expect(functionNodeOptions(1024)).toMatch(/^--max-semi-space-size=8 --max-old-space-size=512 /);
    expect(functionNodeOptions(100)).toMatch(/--max-old-space-size=64\b/);
  });

  it("gives V8 one background thread below 3 vCPUs, and Node's default from there", () => {
    expect(functionNodeOptions(1024)).toContain("--v8-pool-size=1");
    expect(functionNodeOptions(3 * LAMBDA_MB_PER_VCPU - 1)).toContain("--v8-pool-size=1");
    expect(functionNodeOptions(3 * LAMBDA_MB_PER_VCPU)).not.toContain("--v8-pool-size");
    expect(functionNodeOptions(10_240)).not.toContain("--v8-pool-size");
    // A container says its CPUs itself.
    expect(functionNodeOptions(512, 1)).toContain("--v8-pool-size=1");
    expect(functionNodeOptions(512, 4)).not.toContain("--v8-pool-size");
  });

  it("is a list Node accepts in NODE_OPTIONS", () => {
    for (const flag of functionNodeOptions(1024).split(" ")) {
      expect([flag, process.allowedNodeEnvironmentFlags.has(flag.split("=")[0]!)]).toEqual([flag, true]);
    }
  });
});
