import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { LOG_LEVELS } from "../../shared/contract";
import type { LogLevel, MetricDatum, Telemetry } from "../ports";

/**
 * Structured JSON logs (Powertools Logger) and CloudWatch embedded-metric-format lines
 * (Powertools Metrics): in Lambda, CloudWatch turns the EMF lines into metrics with no API call.
 */
export class PowertoolsTelemetry implements Telemetry {
  readonly logger: Logger;
  private readonly emf: Metrics;

  constructor(options: { serviceName: string; namespace: string; logLevel: (typeof LOG_LEVELS)[number] }) {
    this.logger = new Logger({ serviceName: options.serviceName, logLevel: options.logLevel });
    this.emf = new Metrics({ serviceName: options.serviceName, namespace: options.namespace });
  }

  log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    this.logger[level](message, fields);
  }

  metrics(dimensions: Record<string, string>, data: MetricDatum[]): void {
    if (data.length === 0) return;
    if (Object.keys(dimensions).length > 0) this.emf.addDimensions(dimensions);
    for (const d of data) this.emf.addMetric(d.name, MetricUnit[d.unit], d.value);
    this.emf.publishStoredMetrics();
  }
}
