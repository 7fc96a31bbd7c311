import { makeRouter } from "../../../functions/tenant-api/router";
import type { TenantConfigService } from "../../../functions/tenant-api/service";
import { ledgerTtlDays } from "../../../stacks/config";
import { partitionQuery } from "../../../stacks/constructs/partitioned-firehose";
import { RegionalStack } from "../../../stacks/regional-stack";
import { all, env, named, only, ref, synth, testApp } from "../../harness/synth";

const prod = synth(
  new RegionalStack(
    testApp(),
    env({
      distributor: { timeout_seconds: 120, reserved_concurrency: 7, batch_size: 5 },
      tenant_freshness: [{ tenant_id: "acme", max_p99_seconds: 300 }],
    }),
    "us-east-1",
  ),
);
const emulated = synth(new RegionalStack(testApp(), env({ emulator: true }), "us-east-1"));

describe("RegionalStack: staging bucket", () => {
  it("encrypts with the stack's KMS key and a bucket key, blocks public access, disables ACLs", () => {
    const sse = only(prod, "aws_s3_bucket_server_side_encryption_configuration");
    expect(sse.rule[0]).toEqual({
      apply_server_side_encryption_by_default: {
        sse_algorithm: "aws:kms",
        kms_master_key_id: "${aws_kms_key.key.arn}",
      },
      bucket_key_enabled: true,
    });
    expect(only(prod, "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(only(prod, "aws_s3_bucket_ownership_controls").rule.object_ownership).toBe("BucketOwnerEnforced");
    expect(only(prod, "aws_kms_key").enable_key_rotation).toBe(true);
  });

  it("expires staged objects after the configured days and has no versioning by default", () => {
    const rules = only(prod, "aws_s3_bucket_lifecycle_configuration").rule;
    expect(rules.find((r: { id: string }) => r.id === "expire-staged-objects").expiration).toEqual([
      { days: 14 },
    ]);
    expect(all(prod, "aws_s3_bucket_versioning")).toEqual({});
  });

  it("denies non-TLS requests, except in emulator mode where moto would deny everything", () => {
    const statements = JSON.parse(only(prod, "aws_s3_bucket_policy").policy).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: "Deny",
        Action: "*",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    );
    expect(all(emulated, "aws_s3_bucket_policy")).toEqual({});
  });

  it("notifies the topic of created .gz objects; only this bucket in this account may publish", () => {
    expect(only(prod, "aws_s3_bucket_notification").topic).toEqual([
      {
        topic_arn: ref(prod, "aws_sns_topic", "name", "-objects", "arn"),
        events: ["s3:ObjectCreated:*"],
        filter_suffix: ".gz",
      },
    ]);
    const statement = JSON.parse(only(prod, "aws_sns_topic_policy").policy).Statement[0];
    expect(statement).toMatchObject({
      Principal: { Service: "s3.amazonaws.com" },
      Action: "sns:Publish",
      Condition: {
        ArnLike: { "aws:SourceArn": "${aws_s3_bucket.staging_bucket_D9520E09.arn}" },
        StringEquals: { "aws:SourceAccount": "123456789012" },
      },
    });
  });
});

describe("RegionalStack: queue", () => {
  const queues = Object.values(all(prod, "aws_sqs_queue"));
  const main = queues.find((q) => q.name.endsWith("-delivery"));
  const dlq = queues.find((q) => q.name.endsWith("-delivery-dlq"));

  it("keeps messages 14 days, hides them 6x the function timeout, and encrypts both queues", () => {
    expect(main).toMatchObject({
      visibility_timeout_seconds: 720,
      message_retention_seconds: 1_209_600,
      kms_master_key_id: "${aws_kms_key.key.arn}",
    });
    expect(dlq.kms_master_key_id).toBe("${aws_kms_key.key.arn}");
    expect(JSON.parse(main.redrive_policy)).toEqual({
      deadLetterTargetArn: ref(prod, "aws_sqs_queue", "name", "-delivery-dlq", "arn"),
      maxReceiveCount: 5,
    });
  });

  it("accepts messages only from the objects topic, and denies every other sender", () => {
    const topic = ref(prod, "aws_sns_topic", "name", "-objects", "arn");
    expect(JSON.parse(only(prod, "aws_sqs_queue_policy").policy).Statement).toEqual([
      expect.objectContaining({ Effect: "Allow", Condition: { ArnEquals: { "aws:SourceArn": topic } } }),
      expect.objectContaining({
        Effect: "Deny",
        Principal: "*",
        Action: "sqs:SendMessage",
        Condition: { ArnNotEquals: { "aws:SourceArn": topic } },
      }),
    ]);
  });

  it("ignores redrive_policy diffs only in emulator mode", () => {
    const emulatedMain = Object.values(all(emulated, "aws_sqs_queue")).find((q) =>
      q.name.endsWith("-delivery"),
    );
    expect(emulatedMain.lifecycle).toEqual({ ignore_changes: ["redrive_policy"] });
    expect(main.lifecycle).toBeUndefined();
  });
});

describe("RegionalStack: tables", () => {
  const tables = Object.values(all(prod, "aws_dynamodb_table"));
  it("stores configs by tenant_id + type, on demand, with PITR, SSE-KMS and TTL", () => {
    const configs = tables.find((t) => t.name.endsWith("tenant-configs"));
    expect(configs).toMatchObject({
      hash_key: "tenant_id",
      range_key: "type",
      billing_mode: "PAY_PER_REQUEST",
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true, kms_key_arn: "${aws_kms_key.key.arn}" },
      ttl: { attribute_name: "ttl", enabled: true },
    });
  });

  it("has the delivery ledger the distributor expects: string pk, TTL attribute ttl, PITR, KMS, kept from deletion", () => {
    const ledger = tables.find((t) => t.name.endsWith("delivery-ledger"));
    expect(ledger).toMatchObject({
      hash_key: "pk",
      attribute: [
        { name: "pk", type: "S" },
        { name: "park_group", type: "S" },
        { name: "park_order", type: "S" },
      ],
      // Parked deliveries and destination records, in time order per destination (sparse).
      global_secondary_index: [
        { name: "parked", hash_key: "park_group", range_key: "park_order", projection_type: "ALL" },
      ],
      ttl: { attribute_name: "ttl", enabled: true },
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true, kms_key_arn: "${aws_kms_key.key.arn}" },
      deletion_protection_enabled: true,
    });
  });

  it("keeps ledger entries longer than a notification can come back or a replay can find the object", () => {
    const fn = named(prod, "aws_lambda_function", "function_name", "-distributor");
    // 14 days in the queue + 14 in the DLQ (a redrive restarts the clock), staging expiry 14.
    expect(fn.environment.variables.LEDGER_TTL_DAYS).toBe("29");
    expect(ledgerTtlDays(env({ staging: { expire_after_days: 90 } }))).toBe(91);
  });
});

describe("RegionalStack: distributor", () => {
  const fn = named(prod, "aws_lambda_function", "function_name", "-distributor");

  it("is a Node 22 zip with the sizing knobs and the settings the engine reads", () => {
    expect(fn).toMatchObject({
      runtime: "nodejs22.x",
      handler: "index.handler",
      timeout: 120,
      reserved_concurrent_executions: 7,
    });
    expect(fn.source_code_hash).toMatch(/^[0-9A-F]{32}$/);
    expect(Object.keys(fn.environment.variables).sort()).toEqual([
      "ALARM_TOPIC_ARN",
      "CENTRAL_LOG_DISTRIBUTION_ROLE_ARN",
      "DELIVERY_LEDGER_TABLE",
      "HEARTBEAT_TENANT",
      "LEDGER_TTL_DAYS",
      "LOG_GROUP_RETENTION_DAYS",
      "METERED_TENANTS",
      "METRICS_NAMESPACE",
      "NODE_OPTIONS",
      "POWERTOOLS_LOG_LEVEL",
      "POWERTOOLS_SERVICE_NAME",
      "QUEUE_MAX_RECEIVE_COUNT",
      "STAGING_BUCKETS",
      "TENANT_CONFIG_TABLE",
      "TENANT_METRICS",
      "TENANT_REGISTRY_TABLE",
    ]);
    // V8 sized to the function's 1,024 MB: the young generation's garbage kept a Parquet row group
    // under 200 MB; one background thread for V8 below 3 vCPUs leaves a core to the inflater.
    expect(fn.environment.variables.NODE_OPTIONS).toBe(
      "--max-semi-space-size=8 --max-old-space-size=512 --v8-pool-size=1",
    );
    expect(fn.environment.variables.CENTRAL_LOG_DISTRIBUTION_ROLE_ARN).toBe(
      "arn:aws:iam::123456789012:role/logrelay/logrelay-test-central-log-distribution",
    );
    // Known by name: the topic the alarms use is the one the distributor announces parked destinations on.
    const topic = named(prod, "aws_sns_topic", "name", "-alarms");
    expect(fn.environment.variables.ALARM_TOPIC_ARN).toBe(`arn:aws:sns:us-east-1:123456789012:${topic.name}`);
  });

  it("is invoked by a schedule with the recover-parked event, by that rule only; disabled in emulator mode", () => {
    const rule = only(prod, "aws_cloudwatch_event_rule");
    expect(rule).toMatchObject({
      name: "logrelay-test-us-east-1-recover-parked",
      schedule_expression: "rate(5 minutes)",
      state: "ENABLED",
    });
    expect(only(prod, "aws_cloudwatch_event_target")).toMatchObject({
      arn: expect.stringMatching(/^\$\{aws_lambda_function\.distributor_function_[0-9A-F]+\.arn\}$/),
      input: JSON.stringify({ logrelay: "recover-parked" }),
    });
    const permissions = Object.values(all(prod, "aws_lambda_permission")).filter(
      (p) => p.principal === "events.amazonaws.com",
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0]).toMatchObject({
      action: "lambda:InvokeFunction",
      source_arn: expect.stringMatching(
        /^\$\{aws_cloudwatch_event_rule\.recover-parked_rule_[0-9A-F]+\.arn\}$/,
      ),
    });
    expect(only(emulated, "aws_cloudwatch_event_rule").state).toBe("DISABLED");
  });

  it("creates its log group first, with retention and KMS", () => {
    const group = named(prod, "aws_cloudwatch_log_group", "name", "-distributor");
    expect(group).toMatchObject({
      name: "/aws/lambda/logrelay-test-us-east-1-distributor",
      retention_in_days: 30,
      kms_key_id: "${aws_kms_key.key.arn}",
    });
    expect(fn.depends_on).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^aws_cloudwatch_log_group\./),
        expect.stringMatching(/^aws_iam_role_policy\./),
      ]),
    );
  });

  it("is triggered by the queue with partial batch responses; not in emulator mode", () => {
    expect(only(prod, "aws_lambda_event_source_mapping")).toMatchObject({
      batch_size: 5,
      function_response_types: ["ReportBatchItemFailures"],
      enabled: true,
    });
    expect(only(emulated, "aws_lambda_event_source_mapping").enabled).toBe(false);
  });

  it("may do exactly what delivery needs, on exactly its own resources", () => {
    const policy = JSON.parse(
      Object.values(all(prod, "aws_iam_role_policy")).find((p) => p.role.includes("distributor")).policy,
    );
    const grants = Object.fromEntries(
      policy.Statement.map((s: { Sid: string; Action: unknown; Resource: unknown }) => [
        s.Sid,
        [s.Action, s.Resource],
      ]),
    );
    expect(grants).toEqual({
      OwnLogs: [
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        ["${aws_cloudwatch_log_group.distributor_logs_AB40B214.arn}:*"],
      ],
      ConsumeDeliveryQueue: [
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
        ref(prod, "aws_sqs_queue", "name", "-delivery", "arn"),
      ],
      ReadStagedObjects: ["s3:GetObject", "${aws_s3_bucket.staging_bucket_D9520E09.arn}/*"],
      DecryptStagedObjectsAndMessages: [["kms:Decrypt"], "${aws_kms_key.key.arn}"],
      ReadTenantConfigs: ["dynamodb:Query", "${aws_dynamodb_table.tenant-configs.arn}"],
      ReadTenantRegistry: ["dynamodb:GetItem", "${aws_dynamodb_table.tenant-registry.arn}"],
      UseDeliveryLedger: [
        ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        "${aws_dynamodb_table.delivery-ledger.arn}",
      ],
      ListParkedDeliveries: ["dynamodb:Query", "${aws_dynamodb_table.delivery-ledger.arn}/index/parked"],
      ReadStagingExpiry: ["s3:GetLifecycleConfiguration", "${aws_s3_bucket.staging_bucket_D9520E09.arn}"],
      AnnounceParkedDestinations: [
        "sns:Publish",
        "arn:aws:sns:us-east-1:123456789012:logrelay-test-us-east-1-alarms",
      ],
      EncryptAnnouncements: [["kms:GenerateDataKey", "kms:Decrypt"], "${aws_kms_key.key.arn}"],
      AssumeCentralRole: [
        "sts:AssumeRole",
        "arn:aws:iam::123456789012:role/logrelay/logrelay-test-central-log-distribution",
      ],
    });
  });
});

describe("RegionalStack: writer policy, alarms, outputs", () => {
  it("lets collectors put objects only under their own cluster segment, and use the key only through S3 for this bucket", () => {
    const statements = JSON.parse(only(prod, "aws_iam_policy").policy).Statement;
    expect(statements[0]).toEqual({
      Sid: "PutOwnClusterObjects",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: "${aws_s3_bucket.staging_bucket_D9520E09.arn}/*/$${aws:PrincipalTag/logrelay-cluster-id}/*",
    });
    expect(statements[1]).toEqual({
      Sid: "ClusterIdOnlyAsSecondSegment",
      Effect: "Deny",
      Action: "s3:PutObject",
      Resource: "${aws_s3_bucket.staging_bucket_D9520E09.arn}/*/*/$${aws:PrincipalTag/logrelay-cluster-id}/*",
    });
    expect(statements[2].Condition.StringEquals).toEqual({
      "kms:ViaService": "s3.us-east-1.amazonaws.com",
      "kms:EncryptionContext:aws:s3:arn": "${aws_s3_bucket.staging_bucket_D9520E09.arn}",
    });
    expect(statements).toHaveLength(3);
  });

  it("alarms on the DLQ, message age, function errors and throttles, and permanent failures", () => {
    const alarms = Object.values(all(prod, "aws_cloudwatch_metric_alarm")).map((a) => [
      a.namespace,
      a.metric_name,
    ]);
    expect(alarms.sort()).toEqual(
      [
        ["AWS/Lambda", "Errors"],
        ["AWS/Lambda", "Throttles"],
        ["AWS/SQS", "ApproximateAgeOfOldestMessage"],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible"],
        ["AWS/S3", "PutRequests"],
        ["Logrelay", "DeliveryLatency"],
        ["Logrelay", "ObjectsLost"],
        ["Logrelay", "PermanentFailures"],
        ["Logrelay", "RegistryRefusals"],
      ].sort(),
    );
    // A tenant's freshness: the p99 of its delivery latency, a percentile instead of the default Sum.
    const fresh = named(prod, "aws_cloudwatch_metric_alarm", "alarm_name", "freshness-acme-cloudwatch");
    expect(fresh).toMatchObject({
      extended_statistic: "p99",
      threshold: 300_000,
      evaluation_periods: 3,
      dimensions: { service: "logrelay-distributor", tenant_id: "acme", destination: "cloudwatch" },
    });
    expect(fresh.statistic).toBeUndefined();
    // Quarantined events are data no tenant gets: counted by a request metric on their prefix.
    expect(only(prod, "aws_s3_bucket_metric")).toMatchObject({
      name: "quarantine",
      filter: { prefix: "_quarantine/" },
    });
    expect(named(prod, "aws_cloudwatch_metric_alarm", "alarm_name", "quarantined-events").dimensions).toEqual(
      {
        BucketName: "${aws_s3_bucket.staging_bucket_D9520E09.bucket}",
        FilterId: "${aws_s3_bucket_metric.quarantine.name}",
      },
    );
    expect(only(prod, "aws_cloudwatch_dashboard").dashboard_name).toBe("logrelay-test-us-east-1");
  });

  it("per-tenant metrics: none by default, with Contributor Insights rules ranking tenants from the log lines", () => {
    const fn = named(prod, "aws_lambda_function", "function_name", "-distributor").environment.variables;
    expect([fn.TENANT_METRICS, fn.METERED_TENANTS]).toEqual(["none", "acme"]);
    const rules = Object.values(all(prod, "aws_cloudwatch_contributor_insight_rule")) as {
      rule_name: string;
      rule_state: string;
      rule_definition: string;
    }[];
    expect(rules.map((r) => [r.rule_name, r.rule_state]).sort()).toEqual([
      ["logrelay-test-us-east-1-tenants-by-bytes", "ENABLED"],
      ["logrelay-test-us-east-1-tenants-by-events", "ENABLED"],
      ["logrelay-test-us-east-1-tenants-by-failures", "ENABLED"],
    ]);
    const rule = (name: string) =>
      JSON.parse(rules.find((r) => r.rule_name.endsWith(`-tenants-by-${name}`))!.rule_definition);
    const [events, failures] = [rule("events"), rule("failures")];
    expect(events).toEqual({
      Schema: { Name: "CloudWatchLogRule", Version: 1 },
      LogGroupNames: ["${aws_cloudwatch_log_group.distributor_logs_AB40B214.name}"],
      LogFormat: "JSON",
      Contribution: {
        Keys: ["$.tenant_id"],
        ValueOf: "$.events_delivered",
        Filters: [{ Match: "$.events_delivered", GreaterThan: 0 }],
      },
      AggregateOn: "Sum",
    });
    expect(failures.Contribution.Filters).toEqual([
      { Match: "$.outcome", In: ["failed_transient", "failed_permanent"] },
    ]);
    // The dashboard's top tenants come from the rules, not from a SEARCH over per-tenant metrics.
    const widgets = JSON.parse(only(prod, "aws_cloudwatch_dashboard").dashboard_body).widgets.map(
      (w: { properties: Record<string, unknown> }) => w.properties,
    );
    expect(
      widgets.filter((w: { insightRule?: unknown }) => w.insightRule).map((w: { title: string }) => w.title),
    ).toEqual([
      "Top tenants by events delivered",
      "Top tenants by bytes delivered",
      "Top tenants by delivery failures",
    ]);
    expect(JSON.stringify(widgets)).not.toContain("SEARCH(");
  });

  it.each([
    [{ mode: "all" }, "all"],
    [{ mode: "top", top: 50 }, "top:50"],
  ])("per-tenant metrics %j: the distributor is told %s", (setting, told) => {
    const stack = synth(new RegionalStack(testApp(), env({ tenant_metrics: setting }), "us-east-1"));
    const fn = named(stack, "aws_lambda_function", "function_name", "-distributor").environment.variables;
    expect([fn.TENANT_METRICS, fn.METERED_TENANTS]).toEqual([told, ""]);
    const body = only(stack, "aws_cloudwatch_dashboard").dashboard_body as string;
    if (setting.mode === "all")
      expect(body).toContain(
        `SORT(SEARCH('{Logrelay,destination,service,tenant_id} MetricName=\\"EventsDelivered\\"', 'Sum', 300), SUM, DESC, 10)`,
      );
    else expect(body).not.toContain("SEARCH(");
    expect(Object.keys(all(stack, "aws_cloudwatch_contributor_insight_rule"))).toHaveLength(3);
  });

  it("outputs what an operator and the CLI need", () => {
    expect(Object.keys(prod.output ?? {})).toEqual(
      expect.arrayContaining([
        "staging_bucket",
        "delivery_queue_url",
        "delivery_dlq_url",
        "tenant_config_table",
        "delivery_ledger_table",
        "collector_writer_policy_arn",
      ]),
    );
  });
});

describe("RegionalStack: Terraform addresses", () => {
  const moved = (json: typeof prod) =>
    (json as unknown as { moved?: { from: string; to: string }[] }).moved ?? [];

  it("keeps the state of everything the notifications and monitoring constructs took over", () => {
    const from = moved(prod).map((m) => m.from);
    // Addresses the stack had before these constructs (checked against a real apply: plan moves, never replaces).
    expect(from).toEqual(
      expect.arrayContaining([
        "aws_sns_topic.objects-topic",
        "aws_sns_topic_policy.objects-topic-policy",
        "aws_s3_bucket_notification.staging-notification",
        "aws_sqs_queue.delivery_queue_78B7C0B9",
        "aws_sqs_queue.delivery_dlq_2E70849F",
        "aws_sqs_queue_policy.delivery-queue-policy",
        "aws_sns_topic_subscription.delivery-subscription",
        "aws_sns_topic.alarm-topic",
        "aws_cloudwatch_metric_alarm.dlq-not-empty",
        "aws_cloudwatch_metric_alarm.permanent-delivery-failures",
        "aws_cloudwatch_dashboard.dashboard",
      ]),
    );
    // Every move lands on a resource that exists, and nothing is moved twice.
    const addresses = new Set(
      Object.entries(prod.resource).flatMap(([type, rs]) => Object.keys(rs).map((k) => `${type}.${k}`)),
    );
    for (const m of moved(prod)) expect(addresses.has(m.to)).toBe(true);
    expect(new Set(from).size).toBe(from.length);
  });

  it("names each route by its key, and moves the state of the positional ids (route-0...) to it", () => {
    const routes = all(prod, "aws_apigatewayv2_route");
    const byKey = Object.fromEntries(Object.entries(routes).map(([address, r]) => [r.route_key, address]));
    expect(byKey["POST /tenants/{tenant_id}/delivery-configs/{type}/validate"]).toMatch(
      /^tenant-api-http_route-post-tenants-tenant_id-delivery-configs-type-validate_[0-9A-F]{8}$/,
    );
    const routeMoves = moved(prod).filter((m) => m.to.startsWith("aws_apigatewayv2_route."));
    // Every route of 0.1.0 moves; routes added since have no earlier address.
    expect(routeMoves).toHaveLength(12);
    // The addresses 0.1.0 gave them (synthesized from the positional ids, in the list's order).
    expect(
      routeMoves.find((m) => m.to === `aws_apigatewayv2_route.${byKey["GET /delivery-configs"]}`)?.from,
    ).toBe("aws_apigatewayv2_route.tenant-api-http_route-0_1EEA2DB4");
  });
});

describe("RegionalStack: tenant-config API", () => {
  it("deploys exactly the routes the router serves, each requiring IAM (SigV4) authorization", () => {
    const routes = Object.values(all(prod, "aws_apigatewayv2_route"));
    const served = makeRouter({} as TenantConfigService).routeKeys;
    expect(routes.map((r) => r.route_key).sort()).toEqual([...served].sort());
    for (const r of routes) expect(r.authorization_type).toBe("AWS_IAM");
    expect(only(prod, "aws_apigatewayv2_api").protocol_type).toBe("HTTP");
    expect(only(prod, "aws_apigatewayv2_integration")).toMatchObject({
      integration_type: "AWS_PROXY",
      payload_format_version: "2.0",
    });
  });

  it("throttles the stage and writes JSON access logs without bodies", () => {
    const stage = only(prod, "aws_apigatewayv2_stage");
    expect(stage.default_route_settings).toMatchObject({
      throttling_rate_limit: 20,
      throttling_burst_limit: 40,
    });
    const format = JSON.parse(stage.access_log_settings.format);
    expect(Object.keys(format)).toEqual(expect.arrayContaining(["caller", "routeKey", "status"]));
    expect(JSON.stringify(format)).not.toMatch(/body/i);
    expect(stage.access_log_settings.destination_arn).toMatch(/aws_cloudwatch_log_group\.tenant-api-http/);
  });

  it("the API function may manage configs and the registry, and assume the central role, nothing else", () => {
    const policy = JSON.parse(
      Object.values(all(prod, "aws_iam_role_policy")).find((p) => p.role.includes("tenant-api")).policy,
    );
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      "OwnLogs",
      "AppendAuditTrail",
      "AuditTrailIsAppendOnly",
      "ManageTenantConfigs",
      "ManageTenantRegistry",
      "AssumeCentralRole",
    ]);
  });
});

describe("RegionalStack: Firehose ingestion option", () => {
  const firehose = (format: "json" | "parquet") =>
    synth(
      new RegionalStack(
        testApp(),
        env({
          ingestion: "firehose",
          firehose: { format, buffering_size_mb: 128, buffering_interval_seconds: 900 },
        }),
        "us-east-1",
      ),
    );
  const json = firehose("json");
  const parquet = firehose("parquet");

  it("partitions records by tenant/cluster/application/pod into the layout the distributor reads", () => {
    const s3 = only(json, "aws_kinesis_firehose_delivery_stream").extended_s3_configuration;
    expect(s3).toMatchObject({
      prefix:
        "!{partitionKeyFromQuery:tenant_id}/!{partitionKeyFromQuery:cluster_id}/!{partitionKeyFromQuery:application}/!{partitionKeyFromQuery:pod_name}/",
      error_output_prefix: "_firehose-errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
      compression_format: "GZIP",
      file_extension: ".gz",
      buffering_size: 128,
      buffering_interval: 900,
      kms_key_arn: "${aws_kms_key.key.arn}",
      dynamic_partitioning_configuration: { enabled: true },
    });
    expect(s3.processing_configuration.processors).toEqual([
      {
        type: "MetadataExtraction",
        parameters: [
          { parameter_name: "JsonParsingEngine", parameter_value: "JQ-1.6" },
          {
            parameter_name: "MetadataExtractionQuery",
            parameter_value: partitionQuery(),
          },
        ],
      },
      {
        type: "AppendDelimiterToRecord",
        parameters: [{ parameter_name: "Delimiter", parameter_value: "\\n" }],
      },
    ]);
    expect(only(json, "aws_kinesis_firehose_delivery_stream").server_side_encryption).toMatchObject({
      enabled: true,
      key_type: "CUSTOMER_MANAGED_CMK",
    });
    expect(only(json, "aws_s3_bucket_notification").topic[0].filter_suffix).toBe(".gz");
  });

  it("with parquet, the distributor runs as many deliveries at once as its memory allows; with JSON, the whole batch", () => {
    const variables = (j: typeof json) =>
      named(j, "aws_lambda_function", "function_name", "-distributor").environment.variables;
    // 1,024 MB: (1024 - 192) / 80 = 10 deliveries of a 128 MiB row group at once.
    expect(variables(parquet).MAX_PARALLEL_DELIVERIES).toBe("10");
    expect(variables(json).MAX_PARALLEL_DELIVERIES).toBeUndefined();
  });

  it("with parquet, converts with a Glue table of the staged-record columns, and notifies .parquet objects", () => {
    const s3 = only(parquet, "aws_kinesis_firehose_delivery_stream").extended_s3_configuration;
    expect(s3).toMatchObject({ compression_format: "UNCOMPRESSED", file_extension: ".parquet" });
    expect(s3.processing_configuration.processors.map((p: { type: string }) => p.type)).toEqual([
      "MetadataExtraction",
    ]);
    expect(s3.data_format_conversion_configuration).toMatchObject({
      enabled: true,
      input_format_configuration: { deserializer: { open_x_json_ser_de: {} } },
      output_format_configuration: { serializer: { parquet_ser_de: { compression: "SNAPPY" } } },
      schema_configuration: {
        table_name: expect.stringMatching(/^\$\{aws_glue_catalog_table\.ingest_table_\w+\.name\}$/),
      },
    });
    const table = only(parquet, "aws_glue_catalog_table");
    expect(
      table.storage_descriptor.columns.map((c: { name: string; type: string }) => `${c.name}:${c.type}`),
    ).toEqual([
      "message:string",
      "timestamp:string",
      "level:string",
      "tenant_id:string",
      "cluster_id:string",
      "application:string",
      "pod_name:string",
      "namespace:string",
      "container:string",
      "stream:string",
    ]);
    const rolePolicy = JSON.parse(named(parquet, "aws_iam_role_policy", "name", "deliver-to-staging").policy);
    expect(rolePolicy.Statement.find((st: { Sid: string }) => st.Sid === "ReadRecordSchema").Action).toEqual([
      "glue:GetTable",
      "glue:GetTableVersion",
      "glue:GetTableVersions",
    ]);
    expect(only(parquet, "aws_s3_bucket_notification").topic[0].filter_suffix).toBe(".parquet");
  });

  it("alarms on the error output, the partition limit, throttling and data freshness", () => {
    const alarms = Object.values(all(json, "aws_cloudwatch_metric_alarm"))
      .filter((a) => a.namespace === "AWS/Firehose" || a.alarm_name.endsWith("firehose-error-output"))
      .map((a) => [a.metric_name, a.threshold]);
    expect(alarms.sort()).toEqual(
      [
        ["DeliveryToS3.DataFreshness", 1650],
        ["PartitionCountExceeded", 0],
        ["PutRequests", 0],
        ["ThrottledRecords", 0],
      ].sort(),
    );
    expect(
      Object.values(all(json, "aws_s3_bucket_metric"))
        .map((m) => m.filter.prefix)
        .sort(),
    ).toEqual(["_firehose-errors/", "_quarantine/"]);
  });

  it("refuses a buffering size Firehose refuses with dynamic partitioning", () => {
    expect(() => env({ ingestion: "firehose", firehose: { buffering_size_mb: 32 } })).toThrow(
      /firehose.buffering_size_mb: Too small: expected number to be >=64/,
    );
  });
});
