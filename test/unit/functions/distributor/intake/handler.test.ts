import { gzipSync } from "node:zlib";
import type { Context, SQSEvent } from "aws-lambda";
import { makeHandler } from "../../../../../functions/distributor/intake/handler";
import { s3Event, snsEnvelope, sqsRecord } from "../../../../harness/factories";
import { cwConfig, fakeWorld } from "../../../../harness/fakes";

const context = {
  functionName: "logrelay-distributor",
  awsRequestId: "req-1",
  getRemainingTimeInMillis: () => 60_000,
} as Context;
const KEY_OK = "acme/c1/app/pod/1.log.gz";
const KEY_FLAKY = "flaky/c1/app/pod/1.log.gz";

describe("Lambda handler", () => {
  it("reports only transiently failed messages as batchItemFailures", async () => {
    const w = fakeWorld({ messageBudgetMs: 5_000 });
    w.objects.objects.set(`central/${KEY_OK}`, gzipSync('{"message":"hi"}\n'));
    w.objects.objects.set(`central/${KEY_FLAKY}`, gzipSync('{"message":"hi"}\n'));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.configs.items.set("flaky", [cwConfig("flaky", "222222222222")]);
    w.logs.down.set("222222222222", Object.assign(new Error("down"), { name: "InternalFailure" }));
    const handler = makeHandler(w.engine);
    const event: SQSEvent = {
      Records: [
        sqsRecord(JSON.stringify(snsEnvelope(s3Event("central", KEY_FLAKY))), "transient-1"),
        sqsRecord("this is not json", "malformed-1"),
        sqsRecord(JSON.stringify(snsEnvelope(s3Event("central", "nobody/c/a/p/f.gz"))), "unknown-tenant-1"),
      ],
    };

    const response = await handler(event, context);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "transient-1" }] });
  });

  it("returns no failures when every message is delivered or permanently settled", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`central/${KEY_OK}`, gzipSync('{"message":"hi"}\n'));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    const handler = makeHandler(w.engine);

    const response = await handler(
      { Records: [sqsRecord(JSON.stringify(s3Event("central", KEY_OK)), "ok-1"), sqsRecord("[]", "bad-1")] },
      context,
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(w.logs.batches).toHaveLength(1);
  });

  it("reports every message when all of them fail transiently, without throwing", async () => {
    const w = fakeWorld();
    w.configs.failWith = Object.assign(new Error("slow"), { name: "ThrottlingException" });
    const handler = makeHandler(w.engine);

    const response = await handler(
      { Records: [sqsRecord(JSON.stringify(s3Event("central", KEY_OK)), "a")] },
      context,
    );

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "a" }]);
  });

  it("starts no message when the invocation is nearly out of time: it is returned untouched", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`central/${KEY_OK}`, gzipSync('{"message":"hi"}\n'));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    const handler = makeHandler(w.engine);
    const late = { ...context, getRemainingTimeInMillis: () => 12_000 } as Context;

    const response = await handler(
      { Records: [sqsRecord(JSON.stringify(s3Event("central", KEY_OK)), "late-1")] },
      late,
    );

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "late-1" }]);
    expect(w.configs.lookups).toBe(0);
    expect(w.logs.batches).toHaveLength(0);
  });

  it("acknowledges a parked message, and the schedule's event recovers it once the role works", async () => {
    const w = fakeWorld();
    w.objects.objects.set(`central/${KEY_OK}`, gzipSync('{"message":"hi"}\n'));
    w.configs.items.set("acme", [cwConfig("acme", "111111111111")]);
    w.broker.denyRoles.add("arn:aws:iam::111111111111:role/LogDistribution");
    const handler = makeHandler(w.engine, {}, w.recovery);

    const sqs = await handler(
      { Records: [sqsRecord(JSON.stringify(snsEnvelope(s3Event("central", KEY_OK))), "m-1")] },
      context,
    );
    expect(sqs).toEqual({ batchItemFailures: [] });
    expect(w.logs.batches).toHaveLength(0);

    w.broker.denyRoles.clear();
    const recovered = await handler({ logrelay: "recover-parked" }, context);

    expect(recovered.destinations).toEqual([expect.objectContaining({ tenantId: "acme", delivered: 1 })]);
    expect(w.logs.batches).toHaveLength(1);
  });

  it("works on a batch's records concurrently; capped, a freed slot goes to the tenant with the fewest running", async () => {
    const w = fakeWorld();
    let inFlight = 0;
    let max = 0;
    const started: string[] = [];
    const engine = {
      newDeadline: () => w.engine.newDeadline(),
      processMessage: async ({ body }: { body: string }) => {
        const key = JSON.parse(body).Records[0].s3.object.key as string;
        started.push(key.split("/")[0]!);
        inFlight++;
        max = Math.max(max, inFlight);
        await new Promise((r) => setTimeout(r, 10));
        inFlight--;
        return { status: "delivered" as const, objects: [], ignored: [] };
      },
    };
    const records = Array.from({ length: 8 }, (_, i) =>
      sqsRecord(
        JSON.stringify(s3Event("central", `${i < 6 ? "big" : `small${i}`}/c1/app/pod/${i}.log.gz`)),
        `m-${i}`,
      ),
    );

    const response = await makeHandler(engine as never)({ Records: records }, context);
    expect(response).toEqual({ batchItemFailures: [] });
    expect(max).toBe(8);

    // MAX_PARALLEL_DELIVERIES (Parquet environments): the rest of the batch waits its turn, and
    // the small tenants behind big's six records take the first slots that free up.
    max = 0;
    started.length = 0;
    const capped = await makeHandler(engine as never, { maxParallel: 3 })({ Records: records }, context);
    expect(capped).toEqual({ batchItemFailures: [] });
    expect(max).toBe(3);
    expect(started.slice(0, 5)).toEqual(["big", "big", "big", "small6", "small7"]);
  });
});
