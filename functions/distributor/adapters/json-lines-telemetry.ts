import type { LogLevel, MetricDatum, Telemetry } from "../ports";

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * JSON-lines logs for the command line: written to a stream of its own (stderr), so that the
 * command's result on stdout stays clean. Metrics become `metrics` lines with their dimensions.
 */
export class JsonLinesTelemetry implements Telemetry {
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly minLevel: LogLevel = "info",
    private readonly service = "logrelay-cli",
  ) {}

  log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    if (ORDER[level] < ORDER[this.minLevel]) return;
    this.out.write(
      `${JSON.stringify({ level: level.toUpperCase(), message, service: this.service, timestamp: new Date().toISOString(), ...fields })}\n`,
    );
  }

  metrics(dimensions: Record<string, string>, data: MetricDatum[]): void {
    if (ORDER.debug < ORDER[this.minLevel]) return;
    this.out.write(`${JSON.stringify({ level: "DEBUG", message: "metrics", dimensions, metrics: data })}\n`);
  }
}
