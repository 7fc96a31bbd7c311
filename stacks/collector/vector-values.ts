import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";
import { HEARTBEAT_NAME } from "../heartbeat";
import {
  CHART_DIR,
  collectorProgram,
  heartbeatProgram,
  helmEscape,
  KEY_PREFIX_TEMPLATE,
  MULTILINE,
  multilineStartCondition,
  QUARANTINE_EXTENSION,
  QUARANTINE_PREFIX_TEMPLATE,
  STAGED_EXTENSION,
} from "./templates";

/** Per-cluster collector settings; anything unset comes from charts/vector/values.yaml. */
export interface CollectorSettings {
  readonly clusterId: string;
  readonly region: string;
  readonly serviceAccountName: string;
  /** The staging bucket: staged objects (direct-s3) and quarantined events (both modes). */
  readonly stagingBucket: string;
  /** Firehose ingestion: the delivery stream events go to instead of the bucket. */
  readonly firehoseStreamName?: string;
  readonly podLabelSelector?: string;
  readonly namespaceLabelSelector?: string;
  readonly tenantLabel?: string;
  readonly priorityClassName?: string;
  /** A PodMonitor scraping Vector's metrics endpoint. @default false */
  readonly podMonitor?: boolean;
  readonly tolerations?: readonly Record<string, string>[];
  readonly resources?: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  readonly batchMaxBytes?: number;
  readonly batchTimeoutSeconds?: number;
  readonly diskBufferMaxBytes?: number;
  /** Events per minute each tenant may send from one node; more are dropped and counted. */
  readonly tenantEventsPerMinute?: number;
  /** Per-tenant limits (events per minute per node) that replace the default. */
  readonly tenantRateOverrides?: Readonly<Record<string, number>>;
  /**
   * The heartbeat: its tenant (reserved: no namespace may claim it) and, when the cluster runs it,
   * its namespace and interval (its lines are shipped that often).
   */
  readonly heartbeat: {
    readonly tenantId: string;
    readonly namespace?: string;
    readonly intervalSeconds?: number;
  };
}

/** Vector component id of a tenant's own throttle (tenant ids are DNS labels). */
export const tenantThrottleId = (tenantId: string) => `throttle_${tenantId.replace(/-/g, "_")}`;

/**
 * Per-tenant rate limits at the source: a `throttle` keyed by tenant (each tenant has its own
 * budget of `threshold` events per 60 s window, spread evenly), one for the default and one per
 * override, fed by a route on the tenant. Dropped events are counted per tenant (the `key` tag of
 * `vector_events_discarded_total`).
 */
function tenantThrottles(
  input: string,
  defaultPerMinute: number,
  overrides: Readonly<Record<string, number>>,
) {
  const throttle = (inputs: string[], threshold: number) => ({
    type: "throttle",
    inputs,
    key_field: helmEscape("{{ tenant_id }}"),
    threshold,
    window_secs: 60,
    internal_metrics: { emit_events_discarded_per_key: true },
  });
  const tenants = Object.keys(overrides).sort();
  if (tenants.length === 0) return { throttle_default: throttle([input], defaultPerMinute) };
  return {
    tenant_limits: {
      type: "route",
      inputs: [input],
      reroute_unmatched: true,
      route: Object.fromEntries(tenants.map((t) => [t, `.tenant_id == ${JSON.stringify(t)}`])),
    },
    throttle_default: throttle(["tenant_limits._unmatched"], defaultPerMinute),
    ...Object.fromEntries(
      tenants.map((t) => [tenantThrottleId(t), throttle([`tenant_limits.${t}`], overrides[t]!)]),
    ),
  };
}

interface ChartDefaults {
  collector: {
    podLabelSelector: string;
    namespaceLabelSelector: string;
    tenantLabel: string;
    batchMaxBytes: number;
    batchTimeoutSeconds: number;
    diskBufferMaxBytes: number;
    retryInitialBackoffSeconds: number;
    retryMaxBackoffSeconds: number;
    requestTimeoutSeconds: number;
    firehoseBatchTimeoutSeconds: number;
    tenantEventsPerMinute: number;
  };
  [key: string]: unknown;
}

export const chartDefaults = (): ChartDefaults =>
  parse(readFileSync(join(CHART_DIR, "values.yaml"), "utf8")) as ChartDefaults;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateSchema = ajv.compile(JSON.parse(readFileSync(join(CHART_DIR, "values.schema.json"), "utf8")));

/** Checks values against charts/vector/values.schema.json; throws listing every problem. */
export function assertValidValues(values: unknown): void {
  if (!validateSchema(values)) {
    const problems = (validateSchema.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message}`);
    throw new Error(
      `collector values do not match charts/vector/values.schema.json:\n  ${problems.join("\n  ")}`,
    );
  }
}

/**
 * The heartbeat's own path through the collector: a source reading only the heartbeat pod of its
 * namespace (which the main source never reads), its program (the heartbeat tenant, whatever the
 * line says), and a sink shipping every interval, straight to the staging bucket in both ingestion
 * modes (Firehose buffers for minutes). Heartbeats skip the tenants' throttles.
 */
function heartbeatPipeline(
  heartbeat: CollectorSettings["heartbeat"],
  s3Sink: (keyPrefix: string, extension: string, inputs: string[]) => Record<string, unknown>,
) {
  if (heartbeat.namespace === undefined || heartbeat.intervalSeconds === undefined)
    return { excluded: {}, sources: {}, transforms: {}, sinks: {} };
  const sink = s3Sink(KEY_PREFIX_TEMPLATE, STAGED_EXTENSION, ["heartbeat_record"]);
  return {
    excluded: { extra_field_selector: `metadata.namespace!=${heartbeat.namespace}` },
    sources: {
      heartbeat: {
        type: "kubernetes_logs",
        extra_field_selector: `metadata.namespace=${heartbeat.namespace}`,
        extra_label_selector: `app.kubernetes.io/name=${HEARTBEAT_NAME}`,
      },
    },
    transforms: { heartbeat_record: { type: "remap", inputs: ["heartbeat"], source: heartbeatProgram() } },
    sinks: {
      heartbeat: { ...sink, batch: { max_bytes: 1_048_576, timeout_secs: heartbeat.intervalSeconds } },
    },
  };
}

/**
 * Helm values for the upstream Vector chart: kubernetes_logs restricted by pod and namespace
 * selectors -> the logrelay VRL program -> staged objects (or Firehose), quarantine for unsafe
 * events, Vector's internal metrics on a Prometheus endpoint.
 */
export function vectorValues(settings: CollectorSettings): Record<string, unknown> {
  const { collector: d, ...chart } = chartDefaults();
  const batch = {
    max_bytes: settings.batchMaxBytes ?? d.batchMaxBytes,
    timeout_secs: settings.batchTimeoutSeconds ?? d.batchTimeoutSeconds,
  };
  const buffer = {
    type: "disk",
    max_size: settings.diskBufferMaxBytes ?? d.diskBufferMaxBytes,
    when_full: "block",
  };
  // Attempts are unlimited (Vector's default): with a disk buffer and end-to-end
  // acknowledgements, an outage delays logs instead of dropping them.
  const request = {
    retry_initial_backoff_secs: d.retryInitialBackoffSeconds,
    retry_max_duration_secs: d.retryMaxBackoffSeconds,
    timeout_secs: d.requestTimeoutSeconds,
  };
  const delivery = { acknowledgements: { enabled: true }, buffer, request, region: settings.region };
  // Encryption: the bucket's default (SSE-KMS with bucket key); the writer policy allows that key.
  // No healthcheck: it is a HeadBucket, which needs s3:ListBucket, and a collector must not be
  // able to list other tenants' keys.
  const s3Sink = (keyPrefix: string, extension: string, inputs: string[]) => ({
    type: "aws_s3",
    inputs,
    bucket: settings.stagingBucket,
    key_prefix: helmEscape(keyPrefix),
    filename_time_format: "%s",
    filename_append_uuid: true,
    filename_extension: extension,
    compression: "gzip",
    encoding: { codec: "json" },
    framing: { method: "newline_delimited" },
    healthcheck: { enabled: false },
    batch,
    ...delivery,
  });
  const throttles = tenantThrottles(
    "split._unmatched",
    settings.tenantEventsPerMinute ?? d.tenantEventsPerMinute,
    settings.tenantRateOverrides ?? {},
  );
  const throttled = Object.keys(throttles).filter((id) => id.startsWith("throttle_"));
  const staging = settings.firehoseStreamName
    ? {
        type: "aws_kinesis_firehose",
        inputs: throttled,
        stream_name: settings.firehoseStreamName,
        encoding: { codec: "json" },
        // PutRecordBatch takes at most 500 records and 4 MB; Firehose itself buffers objects.
        batch: { max_events: 500, max_bytes: 4_000_000, timeout_secs: d.firehoseBatchTimeoutSeconds },
        ...delivery,
      }
    : s3Sink(KEY_PREFIX_TEMPLATE, STAGED_EXTENSION, throttled);
  // Quarantined events carry no trusted tenant: straight to the bucket in both modes, never to
  // a tenant prefix (and with no .gz suffix, so no delivery is triggered).
  const quarantine = s3Sink(QUARANTINE_PREFIX_TEMPLATE, QUARANTINE_EXTENSION, ["split.quarantine"]);
  const heartbeat = heartbeatPipeline(settings.heartbeat, s3Sink);

  const values = {
    ...chart,
    serviceAccount: { ...(chart.serviceAccount as object), create: false, name: settings.serviceAccountName },
    podPriorityClassName: settings.priorityClassName ?? chart.podPriorityClassName,
    podMonitor: { ...(chart.podMonitor as object), enabled: settings.podMonitor ?? false },
    tolerations: settings.tolerations ?? chart.tolerations,
    resources: settings.resources ?? chart.resources,
    env: [
      { name: "LOGRELAY_CLUSTER_ID", value: settings.clusterId },
      { name: "LOGRELAY_TENANT_LABEL", value: settings.tenantLabel ?? d.tenantLabel },
      { name: "LOGRELAY_HEARTBEAT_TENANT", value: settings.heartbeat.tenantId },
      { name: "AWS_REGION", value: settings.region },
    ],
    customConfig: {
      data_dir: "/vector-data-dir",
      api: { enabled: true, address: "0.0.0.0:8686", playground: false },
      sources: {
        kubernetes: {
          type: "kubernetes_logs",
          extra_label_selector: settings.podLabelSelector ?? d.podLabelSelector,
          extra_namespace_label_selector: settings.namespaceLabelSelector ?? d.namespaceLabelSelector,
          ...heartbeat.excluded,
        },
        internal_metrics: { type: "internal_metrics" },
        ...heartbeat.sources,
      },
      transforms: {
        // Multi-line events (stack traces, tracebacks, panics) become one event per container
        // before the program runs; CRI partial lines are already merged by the source.
        multiline: {
          type: "reduce",
          inputs: ["kubernetes"],
          group_by: [...MULTILINE.groupBy],
          merge_strategies: { message: "concat_newline" },
          starts_when: { type: "vrl", source: multilineStartCondition() },
          max_events: MULTILINE.maxEvents,
          expire_after_ms: MULTILINE.expireAfterMs,
          flush_period_ms: MULTILINE.flushPeriodMs,
        },
        logrelay: { type: "remap", inputs: ["multiline"], source: collectorProgram() },
        split: {
          type: "route",
          inputs: ["logrelay"],
          reroute_unmatched: true,
          route: { quarantine: "exists(.logrelay_quarantine_reason)" },
        },
        ...throttles,
        ...heartbeat.transforms,
        quarantine_metrics: {
          type: "log_to_metric",
          inputs: ["split.quarantine"],
          metrics: [
            {
              type: "counter",
              field: "logrelay_quarantine_reason",
              name: "quarantined_events_total",
              namespace: "logrelay",
              tags: { reason: helmEscape("{{ logrelay_quarantine_reason }}") },
            },
          ],
        },
      },
      sinks: {
        staging,
        quarantine,
        ...heartbeat.sinks,
        // The chart names container ports after sinks: this one becomes "prom-exporter", the
        // port its PodMonitor scrapes.
        prom_exporter: {
          type: "prometheus_exporter",
          inputs: ["internal_metrics", "quarantine_metrics"],
          address: "0.0.0.0:9598",
        },
      },
    },
  };
  assertValidValues(values);
  return values;
}

/**
 * Prometheus alert rules for the collector (offered with the PodMonitor): a tenant over its rate
 * limit (the throttles' per-key discard counter), and quarantined events. Needs the Prometheus
 * operator's PrometheusRule CRD, like the PodMonitor.
 */
export function collectorAlertRules(namespace: string): Record<string, unknown> {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "logrelay-collector", namespace, labels: { "app.kubernetes.io/name": "vector" } },
    spec: {
      groups: [
        {
          name: "logrelay-collector",
          rules: [
            {
              alert: "LogrelayTenantRateLimited",
              expr: 'sum by (key) (rate(vector_events_discarded_total{component_id=~"throttle_.+"}[5m])) > 0',
              for: "5m",
              labels: { severity: "warning" },
              annotations: {
                summary: "The collector drops logs of tenant {{ $labels.key }} over its rate limit",
                description:
                  "Tenant {{ $labels.key }} logs more than its tenant_rate_limit on some nodes; the excess is dropped at the source. Raise its override or find the noisy pod.",
              },
            },
            {
              alert: "LogrelayEventsQuarantined",
              expr: "sum by (reason) (rate(logrelay_quarantined_events_total[5m])) > 0",
              for: "15m",
              labels: { severity: "warning" },
              annotations: {
                summary: "The collector quarantines events ({{ $labels.reason }})",
                description:
                  "Events without a valid tenant, application or pod go to _quarantine/<cluster>/<reason>/.",
              },
            },
          ],
        },
      ],
    },
  };
}
