import {
  ClaimedElsewhereError,
  CorruptObjectError,
  classify,
  DeadlineReachedError,
  isBackpressure,
  ObjectNotFoundError,
  outcomeOf,
  TransientDeliveryError,
} from "../../../../functions/distributor/errors";
import { awsError } from "../../../harness/factories";

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
    [awsError("QueueDoesNotExist", 400), "permanent"],
    [new ObjectNotFoundError("b", "k"), "permanent"],
    [new DeadlineReachedError("out of time"), "transient"],
    [new ClaimedElsewhereError("held"), "transient"],
    ["a string", "transient"],
    [
      new Error("fetch failed", { cause: Object.assign(new Error("reset"), { code: "ECONNRESET" }) }),
      "transient",
    ],
    [awsError("ExpiredTokenException", 400), "transient"],
  ])("%o is %s", (error, expected) => {
    expect(classify(error)).toBe(expected);
  });
});

describe("isBackpressure (retried by time, not by count)", () => {
  it.each([
    [awsError("ThrottlingException", 400), true],
    [awsError("SlowDown", 503), true],
    [awsError("SomethingNew", 502), true],
    [awsError("TimeoutError"), true],
    [Object.assign(new Error("reset"), { code: "ECONNRESET" }), false],
    [awsError("AccessDenied", 403), false],
    [new DeadlineReachedError("out of time"), false],
    // Smithy's throttling list (the SDK's own retry rules) beyond the names logrelay spelled out.
    [awsError("RequestThrottledException", 400), true],
    [awsError("BandwidthLimitExceeded", 400), true],
    [awsError("SomethingNew", 400, { $retryable: { throttling: true } }), true],
  ])("%o -> %s", (error, expected) => {
    expect(isBackpressure(error)).toBe(expected);
  });
});

describe("outcomeOf: the one mapping from an error to an outcome", () => {
  it("names the status and the reason", () => {
    expect(outcomeOf(new ObjectNotFoundError("central", "a/b/c/d/e.gz"))).toEqual({
      status: "failed_permanent",
      reason: "ObjectNotFoundError: s3://central/a/b/c/d/e.gz not found (expired or deleted?)",
    });
    expect(outcomeOf(awsError("ThrottlingException", 400))).toEqual({
      status: "failed_transient",
      reason: "ThrottlingException: ThrottlingException",
    });
  });
});
