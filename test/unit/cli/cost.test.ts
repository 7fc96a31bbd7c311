import {
  destinationCosts,
  estimate,
  heartbeatCost,
  loadPrices,
  meteredTenantCount,
  tenantShares,
} from "../../../cli/cost";
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
  meteredTenants: 1000,
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

  it("prices each destination type on the customer's side: a Firehose record is billed in 5 KB steps", () => {
    const costs = Object.fromEntries(destinationCosts(inputs, prices).map((c) => [c.type, c.usd]));
    // 1,020 GB a month: $0.50 per GB ingested and a month of 12.6% of it stored at $0.03.
    expect(costs.cloudwatch).toBeCloseTo(510 + 1020 * 0.126 * 0.03, 1);
    // 2,852,126,720 events of 400 bytes, each billed as 5 KB at $0.029 per GB.
    const events = (34 * 30 * 1024 ** 3) / 400;
    expect(costs.firehose).toBeCloseTo((events * 5120 * 0.029) / 1024 ** 3, 1);
    expect(costs.s3).toBeCloseTo((104_448 * 0.005) / 1000 + 1020 * 0.126 * 0.023, 1);
    // Larger events fill the 5 KB steps: the same bytes cost far less.
    const big = Object.fromEntries(
      destinationCosts({ ...inputs, avgEventBytes: 5120 }, prices).map((c) => [c.type, c.usd]),
    );
    expect(big.firehose).toBeCloseTo(1020 * 0.029, 1);
  });

  it("telemetry: per-tenant metrics for the metered tenants only; Contributor Insights at a flat fee", () => {
    expect(meteredTenantCount({ mode: "all" }, 1000, 3)).toBe(1000);
    expect(meteredTenantCount({ mode: "top", top: 20 }, 1000, 3)).toBe(23);
    expect(meteredTenantCount({ mode: "none" }, 1000, 3)).toBe(3);
    expect(meteredTenantCount({ mode: "top", top: 20 }, 5, 3)).toBe(5);

    const none = estimate({ ...inputs, meteredTenants: 0 }, prices);
    const line = (c: string) => none.lines.find((l) => l.component === c)!.usd.direct_to_s3;
    expect(line("Per-tenant metrics")).toBe(0);
    // 5 names for the one destination type, without the tenant.
    expect(line("Delivery metrics per destination type")).toBe(1.5);
    // 3 rules x $0.50 + 2 matching lines per object (104,448 objects of 10 MiB a month) x $0.02 per million.
    expect(line("Contributor Insights rules (tenants ranked from logs)")).toBeCloseTo(
      1.5 + (104_448 * 2 * 0.02) / 1e6,
      2,
    );
    const all = estimate(inputs, prices);
    expect(all.totals.direct_to_s3 - none.totals.direct_to_s3).toBeCloseTo(1500, 1);
  });

  it("splits by delivered bytes: metered tenants by their own, the rest as one remainder", () => {
    const shares = tenantShares(
      new Map([
        ["globex", 100],
        ["acme", 300],
      ]),
      1000,
    );
    expect(shares).toEqual([
      { tenantId: "acme", bytes: 300, share: 0.3 },
      { tenantId: "globex", bytes: 100, share: 0.1 },
      { tenantId: "(other tenants)", bytes: 600, share: 0.6 },
    ]);
    expect(tenantShares(new Map([["acme", 5]]), 0)).toEqual([{ tenantId: "acme", bytes: 5, share: 1 }]);
    expect(tenantShares(new Map(), 0)).toEqual([]);
  });

  it("prints a table per component and mode, with totals and the price table's date", async () => {
    const { code, out } = await runCaptured(
      ["cost", "--environment", "local", "--gb-per-day", "34", "--tenants", "1000"],
      {},
    );
    expect(code).toBe(0);
    // The local environment keeps the cheap default: only acme (it has a freshness alarm) is metered.
    expect(out).toMatch(/Per-tenant metrics\s+\$1\.50\s+\$1\.50\s+\$1\.50\s+-/);
    expect(out).toMatch(/^per-tenant metrics: none \(1 of 1000 tenants\)$/m);
    const all = await runCaptured(
      [
        "cost",
        "--environment",
        "local",
        "--gb-per-day",
        "34",
        "--tenants",
        "1000",
        "--tenant-metrics",
        "all",
      ],
      {},
    );
    expect(all.out).toMatch(/Per-tenant metrics\s+\$1500\.00\s+\$1500\.00\s+\$1500\.00\s+-/);
    const bad = await runCaptured(
      ["cost", "--environment", "local", "--gb-per-day", "1", "--tenant-metrics", "most"],
      {},
    );
    expect([bad.code, bad.err]).toEqual([
      2,
      'logrelay: --tenant-metrics "most" must be none, top:N or all\n',
    ]);
    expect(out).toMatch(/^TOTAL\s+\$/m);
    expect(out).toMatch(
      /^firehose\s+\$\d+\.\d\d\s+ingestion: [\d,]+ records a month, each billed in 5 KB steps$/m,
    );
    expect(out).toMatch(/prices: us-east-1 list prices as of \d{4}-\d{2}-\d{2}/);
    const missing = await runCaptured(["cost", "--environment", "nope", "--gb-per-day", "1"], {});
    expect([missing.code, missing.err]).toEqual([
      2,
      expect.stringMatching(/^logrelay: --environment nope: no .*environments\/nope\.json\n$/),
    ]);
  });
});

describe("the cost of cluster heartbeats", () => {
  const prices = loadPrices("us-east-1");
  const p = (name: string) => prices.prices[name]!.usd;

  it("is what one object per cluster per interval costs through the whole path, plus 2 metrics and 2 alarms per cluster", () => {
    const objects = 1000 * 30 * 86_400 * (1 / 60);
    const transport =
      (objects * (0.005 + 0.0004)) / 1000 +
      (objects * (0.5 + 3 * 0.4)) / 1e6 +
      (objects * (3 * 0.625 + 0.125)) / 1e6 +
      objects * 0.05 * 0.0000166667 +
      ((objects * 200) / 1024 ** 3) * 0.5;
    const monitoring = 1000 * (2 * 0.3 + 2 * 0.1) + 0.5;
    expect(heartbeatCost(1000, 60, p)).toBeCloseTo(transport + monitoring, 6);
    expect(heartbeatCost(0, 60, p)).toBe(0);
    // A longer interval cuts the transport, not the per-cluster metrics and alarms.
    expect(heartbeatCost(1000, 300, p)).toBeGreaterThan(monitoring);
    expect(heartbeatCost(1000, 300, p)).toBeLessThan(heartbeatCost(1000, 60, p));
  });

  it("is a line of every pipeline mode, none for direct-to-CloudWatch", () => {
    const { lines } = estimate({ ...inputs, clusters: 10, heartbeatIntervalSeconds: 60 }, prices);
    const line = lines.find((l) => l.component.startsWith("Cluster heartbeats"))!;
    expect(Object.keys(line.usd).sort()).toEqual(["direct_to_s3", "firehose_json", "firehose_parquet"]);
    expect(
      lines.some((l) => l.component.startsWith("Cluster heartbeats") && "direct_to_cloudwatch" in l.usd),
    ).toBe(false);
    expect(
      estimate(inputs, prices).lines.find((l) => l.component.startsWith("Cluster heartbeats")),
    ).toBeUndefined();
  });
});
