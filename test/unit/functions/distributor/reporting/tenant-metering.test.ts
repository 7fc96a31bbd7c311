import {
  parseTenantMetrics,
  TenantMeteredTelemetry,
} from "../../../../../functions/distributor/reporting/tenant-metering";
import { MemoryTelemetry } from "../../../../harness/memory-telemetry";

const delivered = (events: number) => [
  { name: "EventsDelivered", value: events, unit: "Count" as const },
  { name: "DeliveryFailures", value: 0, unit: "Count" as const },
];

/** What reached CloudWatch: metric sets by their dimensions, tenant first. */
const sets = (memory: MemoryTelemetry) =>
  memory.metricSets.map((s) => [s.dimensions.tenant_id ?? "-", s.dimensions.destination ?? "-"].join("/"));

describe("per-tenant metrics setting", () => {
  it("none: no tenant's own metrics, totals per destination type complete, the listed tenants metered", () => {
    const memory = new MemoryTelemetry();
    const t = new TenantMeteredTelemetry(memory, { mode: "none" }, new Set(["acme"]));
    t.metrics({ tenant_id: "acme", destination: "cloudwatch" }, delivered(3));
    t.metrics({ tenant_id: "globex", destination: "cloudwatch" }, delivered(5));
    t.metrics({ tenant_id: "globex" }, [{ name: "ObjectsSkipped", value: 1, unit: "Count" }]);
    t.metrics({}, [{ name: "PermanentFailures", value: 1, unit: "Count" }]);

    expect(sets(memory)).toEqual(["-/cloudwatch", "acme/cloudwatch", "-/cloudwatch", "-/-"]);
    expect(memory.total("EventsDelivered", { destination: "cloudwatch" })).toBe(3 + 3 + 5);
    expect(memory.total("EventsDelivered", { tenant_id: "globex" })).toBe(0);
  });

  it("all: every tenant's own metrics as well", () => {
    const memory = new MemoryTelemetry();
    const t = new TenantMeteredTelemetry(memory, { mode: "all" });
    t.metrics({ tenant_id: "globex", destination: "s3" }, delivered(5));
    expect(sets(memory)).toEqual(["-/s3", "globex/s3"]);
  });

  it("top:N: the N tenants with the most events delivered in the last hour or two, re-ranked each minute", () => {
    let now = 0;
    const memory = new MemoryTelemetry();
    const t = new TenantMeteredTelemetry(memory, { mode: "top", top: 2 }, new Set(), () => now);
    const send = (tenant: string, events: number) => {
      memory.metricSets.length = 0;
      t.metrics({ tenant_id: tenant, destination: "cloudwatch" }, delivered(events));
      return memory.metricSets.some((s) => s.dimensions.tenant_id === tenant);
    };
    // Room for two: the first two tenants seen are metered at once.
    expect([send("small", 1), send("medium", 10)]).toEqual([true, true]);
    expect(send("big", 100)).toBe(false);
    now += 60_000;
    // Ranked: big (100) and medium (10) in, small (1) out.
    expect([send("big", 1), send("medium", 1), send("small", 1)]).toEqual([true, true, false]);
    // Two hours later the old counts are gone: only what was sent since counts.
    now += 2 * 3_600_000;
    expect([send("small", 50), send("medium", 20)]).toEqual([true, true]);
    now += 60_000;
    expect([send("big", 1), send("small", 1), send("medium", 1)]).toEqual([false, true, true]);
  });

  it.each([
    ["none", { mode: "none" }],
    ["all", { mode: "all" }],
    ["top:25", { mode: "top", top: 25 }],
    ["top:0", undefined],
    ["top", undefined],
    ["some", undefined],
  ])("reads %s", (text, setting) => {
    expect(parseTenantMetrics(text)).toEqual(setting);
  });
});
