import type { LogLevel, MetricDatum, Telemetry } from "../../functions/distributor/ports";

/** Keeps what the engine logs and measures, for assertions. */
export class MemoryTelemetry implements Telemetry {
  readonly lines: { level: LogLevel; message: string; fields: Record<string, unknown> }[] = [];
  readonly metricSets: { dimensions: Record<string, string>; data: MetricDatum[] }[] = [];

  log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level, message, fields });
  }

  metrics(dimensions: Record<string, string>, data: MetricDatum[]): void {
    this.metricSets.push({ dimensions, data });
  }

  /** Sum of one metric over the sets whose dimensions include `where`. */
  total(name: string, where: Record<string, string> = {}): number {
    return this.metricSets
      .filter((s) => Object.entries(where).every(([k, v]) => s.dimensions[k] === v))
      .flatMap((s) => s.data)
      .filter((d) => d.name === name)
      .reduce((sum, d) => sum + d.value, 0);
  }
}
