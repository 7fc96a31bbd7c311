import { countsOf } from "../../../functions/distributor/model/counts";
import type {
  DestinationResult,
  ObjectResult,
} from "../../../functions/distributor/reporting/outcome-report";
import { summarize } from "../../../scripts/delivery-summary";

const dest = (
  type: "cloudwatch" | "s3",
  status: DestinationResult["status"],
  events = 0,
  reason?: string,
): DestinationResult => ({
  ...countsOf(),
  type,
  target: type === "cloudwatch" ? "cloudwatch:us-east-1:1:/logrelay/t" : "s3://b/p/",
  status,
  eventsDelivered: events,
  ...(reason && { reason }),
});
const object = (tenantId: string, destinations: DestinationResult[], latencyMs = 100): ObjectResult => ({
  bucket: "b",
  key: `${tenantId}/c/a/p/f.gz`,
  tenantId,
  status: "delivered",
  destinations,
  latencyMs,
});

describe("npm start's delivery summary", () => {
  it("is sorted by tenant and destination, counts CloudWatch events and S3 objects apart, and gives reasons", () => {
    const summary = summarize([
      object("zeta", [dest("cloudwatch", "delivered", 5)]),
      object("acme", [dest("s3", "delivered"), dest("cloudwatch", "delivered", 30)], 250),
      object("acme", [dest("s3", "delivered"), dest("cloudwatch", "delivered", 25)], 120),
      object("globex", [dest("cloudwatch", "skipped", 0, "application checkout not selected")]),
      object("globex", [dest("cloudwatch", "skipped", 0, "application checkout not selected")]),
      {
        bucket: "b",
        key: "ghost/c/a/p/f.gz",
        tenantId: "ghost",
        status: "failed_permanent",
        reason: "tenant ghost is not registered",
        destinations: [],
        latencyMs: 1,
      },
    ]);

    expect(summary.rows.map((r) => [r.tenant, r.destination.split(":")[0]])).toEqual([
      ["acme", "cloudwatch"],
      ["acme", "s3"],
      ["ghost", "-"],
      ["globex", "cloudwatch"],
      ["zeta", "cloudwatch"],
    ]);
    expect(summary.rows[0]).toMatchObject({
      objects: 2,
      cloudwatchEvents: 55,
      s3Objects: 0,
      maxLatencyMs: 250,
    });
    expect(summary.rows[1]).toMatchObject({ objects: 2, cloudwatchEvents: 0, s3Objects: 2 });
    expect(summary.rows[3]).toMatchObject({ skipped: 2, cloudwatchEvents: 0 });
    expect(summary.reasons).toEqual([
      { tenant: "ghost", status: "failed_permanent", reason: "tenant ghost is not registered", objects: 1 },
      { tenant: "globex", status: "skipped", reason: "application checkout not selected", objects: 2 },
    ]);
  });
});
