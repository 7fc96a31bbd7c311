import { CorruptObjectError, classify, TransientDeliveryError } from "../../../functions/distributor/errors";
import { withRetry } from "../../../functions/distributor/retry";

const awsError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), {
    name,
    ...(status && { $metadata: { httpStatusCode: status } }),
    ...extra,
  });

describe("classify", () => {
  it.each([
    [awsError("ThrottlingException", 400), "transient"],
    [awsError("SlowDown", 503), "transient"],
    [awsError("InternalError", 500), "transient"],
    [awsError("SomethingNew", 502), "transient"],
    [awsError("SomethingNew", 429), "transient"],
    [awsError("TimeoutError"), "transient"],
    [Object.assign(new Error("reset"), { code: "ECONNRESET" }), "transient"],
    [awsError("ServiceUnavailableException", 503, { $fault: "server" }), "transient"],
    [awsError("AccessDenied", 403), "permanent"],
    [awsError("AccessDeniedException", 400), "permanent"],
    [awsError("NoSuchBucket", 404), "permanent"],
    [awsError("InvalidParameterException", 400), "permanent"],
    [awsError("Whatever", 403), "permanent"],
    [new CorruptObjectError("bad gzip"), "permanent"],
    [new TransientDeliveryError("later"), "transient"],
    ["a string", "transient"],
  ])("%o is %s", (error, expected) => {
    expect(classify(error)).toBe(expected);
  });
});

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
});
