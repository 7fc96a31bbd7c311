import { Deadline, withRetry } from "../../../../../functions/distributor/delivery/retry";
import { awsError } from "../../../../harness/factories";

describe("withRetry", () => {
  const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 };

  it("retries transient failures with capped, jittered exponential backoff", async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 4) throw awsError("ThrottlingException", 400);
        return "ok";
      },
      policy,
      { sleep: async (ms) => void sleeps.push(ms), random: () => 0.999 },
    );
    expect(result).toBe("ok");
    expect(sleeps).toEqual([99, 199, 249]);
  });

  it("gives up after maxAttempts with the last error", async () => {
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw awsError("InternalError", 500);
      },
      policy,
      { sleep: async () => {} },
    );
    await expect(run).rejects.toMatchObject({ name: "InternalError" });
    expect(calls).toBe(4);
  });

  it("does not retry a permanent failure", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw awsError("AccessDenied", 403);
        },
        policy,
        { sleep: async () => {} },
      ),
    ).rejects.toMatchObject({ name: "AccessDenied" });
    expect(calls).toBe(1);
  });

  it("retries back-pressure for as long as the deadline leaves time for the wait, beyond maxAttempts", async () => {
    let now = 0;
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw awsError("ThrottlingException", 400);
      },
      policy,
      {
        sleep: async (ms) => {
          now += ms;
        },
        random: () => 0.999,
      },
      new Deadline(2_000, () => now),
    );
    await expect(run).rejects.toMatchObject({ name: "ThrottlingException" });
    expect(calls).toBeGreaterThan(policy.maxAttempts);
    expect(now).toBeLessThanOrEqual(2_000);
  });

  it("with a deadline, still counts attempts for other transient errors", async () => {
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      },
      policy,
      { sleep: async () => {} },
      new Deadline(Number.MAX_SAFE_INTEGER),
    );
    await expect(run).rejects.toThrow("socket hang up");
    expect(calls).toBe(policy.maxAttempts);
  });
});
