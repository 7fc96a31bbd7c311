import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { REGION } from "../harness/aws";
import { runCaptured } from "../harness/cli";
import { useMoto } from "../harness/moto-suite";

/** `logrelay status` against the emulator: queues, alarms and the distributor's metrics as AWS holds them. */
describe("logrelay status", () => {
  useMoto();
  const sqs = () => new SQSClient({ region: REGION });
  const cw = () => new CloudWatchClient({ region: REGION });
  const cli = (...argv: string[]) => runCaptured(["status", ...argv], { ...process.env, AWS_REGION: REGION });
  let queue: string;
  let dlq: string;

  beforeAll(async () => {
    queue = (await sqs().send(new CreateQueueCommand({ QueueName: "status-delivery" }))).QueueUrl!;
    dlq = (await sqs().send(new CreateQueueCommand({ QueueName: "status-delivery-dlq" }))).QueueUrl!;
    await cw().send(
      new PutMetricAlarmCommand({
        AlarmName: "logrelay-test-us-east-1-dlq-messages",
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Statistic: "Sum",
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
      }),
    );
    const now = new Date();
    const datum = (
      name: string,
      tenant: string,
      value: number,
      unit: "Count" | "Milliseconds" | "Bytes",
    ) => ({
      MetricName: name,
      Dimensions: [
        { Name: "service", Value: "logrelay-distributor" },
        { Name: "tenant_id", Value: tenant },
        { Name: "destination", Value: "cloudwatch" },
      ],
      Value: value,
      Unit: unit,
      Timestamp: now,
    });
    await cw().send(
      new PutMetricDataCommand({
        Namespace: "Logrelay",
        MetricData: [
          datum("EventsDelivered", "acme", 120, "Count"),
          datum("EventsDelivered", "acme", 30, "Count"),
          datum("DeliveryFailures", "acme", 0, "Count"),
          datum("EventsDelivered", "globex", 7, "Count"),
          datum("DeliveryFailures", "globex", 2, "Count"),
          datum("BytesDelivered", "acme", 3_000, "Bytes"),
          datum("BytesDelivered", "globex", 1_000, "Bytes"),
          // The series without the tenant: every tenant's bytes, metered or not.
          {
            ...datum("BytesDelivered", "-", 10_000, "Bytes"),
            Dimensions: [
              { Name: "service", Value: "logrelay-distributor" },
              { Name: "destination", Value: "cloudwatch" },
            ],
          },
        ],
      }),
    );
  });

  it("`logrelay cost --shares-from-metrics` splits the cost by each metered tenant's delivered bytes, the rest as one", async () => {
    const result = await runCaptured(
      [
        "cost",
        "--environment",
        "local",
        "--gb-per-day",
        "10",
        "--tenants",
        "50",
        "--shares-from-metrics",
        "7",
        "-o",
        "json",
      ],
      { ...process.env, AWS_REGION: REGION },
    );
    expect([result.code, result.err]).toEqual([0, ""]);
    const cost = JSON.parse(result.out);
    expect(cost.shares.map((s: { tenant_id: string; share: number }) => [s.tenant_id, s.share])).toEqual([
      ["acme", 0.3],
      ["globex", 0.1],
      ["(other tenants)", 0.6],
    ]);
    expect(cost.shares[0].usd.direct_to_s3).toBeCloseTo(cost.totals.direct_to_s3 * 0.3, 1);
    expect(cost.tenant_metrics).toEqual({ mode: "none", metered_tenants: 1 });
  });

  it("healthy: an empty DLQ, no alarm firing; the last hour per tenant", async () => {
    const result = await cli(
      "--queue-url",
      queue,
      "--dlq-url",
      dlq,
      "--alarm-prefix",
      "logrelay-test-",
      "-o",
      "json",
    );

    expect(result.code).toBe(0);
    const status = JSON.parse(result.out);
    expect(status).toMatchObject({ healthy: true, attention: [], dlq: { visible: 0 }, parked_read: false });
    expect(status.alarms.map((a: { name: string }) => a.name)).toEqual([
      "logrelay-test-us-east-1-dlq-messages",
    ]);
    expect(status.tenants).toEqual([
      expect.objectContaining({
        tenant_id: "acme",
        destination: "cloudwatch",
        events_delivered: 150,
        failures: 0,
      }),
      expect.objectContaining({
        tenant_id: "globex",
        destination: "cloudwatch",
        events_delivered: 7,
        failures: 2,
      }),
    ]);
  });

  it("needs attention: a message in the DLQ and an alarm firing, each named with what to do; exit 1", async () => {
    await sqs().send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: "{}" }));
    await cw().send(
      new SetAlarmStateCommand({
        AlarmName: "logrelay-test-us-east-1-dlq-messages",
        StateValue: "ALARM",
        StateReason: "Threshold Crossed: 1 datapoint [1.0] was greater than the threshold (0.0)",
      }),
    );

    const result = await cli("--queue-url", queue, "--dlq-url", dlq, "--alarm-prefix", "logrelay-test-");

    expect(result.code).toBe(1);
    expect(result.out).toMatch(
      /^delivery needs attention:\n {2}- 1 message\(s\) in the DLQ: logrelay dlq inspect --dlq-url /,
    );
    expect(result.out).toMatch(/- alarm logrelay-test-us-east-1-dlq-messages: Threshold Crossed/);
    expect(result.out).toMatch(/acme\s+cloudwatch\s+150\s+0/);
    expect(result.err.trim()).toBe("logrelay: delivery needs attention (2 finding(s) above)");
  });
});
