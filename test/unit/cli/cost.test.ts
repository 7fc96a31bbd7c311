import { estimate, loadPrices } from "../../../cli/cost";
import { runCaptured } from "../../harness/cli";

const inputs = {
  gbPerDay: 34,
  tenants: 1000,
  destinationsPerTenant: 1,
  avgEventBytes: 400,
  objectMb: 10,
  stagingDays: 14,
  retentionDays: 30,
  metricsPerDestination: 5,
};

describe("logrelay cost", () => {
  const prices = loadPrices("us-east-1");

  it("the price table is dated and every price names its source", () => {
    expect(prices.as_of).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const p of Object.values(prices.prices)) expect(p.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });

  it("prices each component from the table: per-tenant metrics, Firehose's 5 KB steps, CloudWatch ingestion", () => {
    const { lines, totals } = estimate(inputs, prices);
    const line = (c: string) => lines.find((l) => l.component === c)!.usd;
    // 1,000 tenants x 5 metric names x $0.30: the telemetry alone.
    expect(line("Per-tenant metrics").direct_to_s3).toBe(1500);
    // 1,020 GB of 400-byte events, each billed as 5 KB: 12.8x the bytes.
    const events = (34 * 30 * 1024 ** 3) / 400;
    expect(line("Firehose ingestion (5 KB steps)").firehose_json).toBeCloseTo(
      (events * 5120 * 0.029) / 1024 ** 3,
      1,
    );
    expect(line("CloudWatch Logs ingestion").direct_to_cloudwatch).toBe(510);
    expect(line("Firehose Parquet conversion")).toEqual({ firehose_parquet: 18.36 });
    expect(totals.firehose_parquet - totals.firehose_json).toBeCloseTo(18.36, 2);
    expect(totals.direct_to_s3).toBeLessThan(totals.firehose_json);
  });

  it("prints a table per component and mode, with totals and the price table's date", async () => {
    const { code, out } = await runCaptured(
      ["cost", "--environment", "local", "--gb-per-day", "34", "--tenants", "1000"],
      {},
    );
    expect(code).toBe(0);
    expect(out).toMatch(/Per-tenant metrics\s+\$1500\.00\s+\$1500\.00\s+\$1500\.00\s+-/);
    expect(out).toMatch(/^TOTAL\s+\$/m);
    expect(out).toMatch(/prices: us-east-1 list prices as of \d{4}-\d{2}-\d{2}/);
    const bad = await runCaptured(["cost", "--environment", "nope", "--gb-per-day", "1"], {});
    expect([bad.code, bad.err]).toEqual([
      2,
      expect.stringMatching(/^logrelay: --environment nope: no .*environments\/nope\.json\n$/),
    ]);
  });
});
