import { runSimulation } from "@cloud-copilot/iam-simulate";
import { s3SessionPolicy } from "../../../functions/distributor/delivery/destinations/s3-copy";
import { CustomerAccountStack } from "../../../stacks/customer-account-stack";
import { customerRoleTemplate } from "../../../stacks/customer-role";
import { GlobalStack } from "../../../stacks/global-stack";
import { heartbeatItems } from "../../../stacks/heartbeat";
import { RegionalStack } from "../../../stacks/regional-stack";
import { all, env, named, only, synth, testApp } from "../../harness/synth";

/**
 * moto does not evaluate trust policies or conditions, so isolation is proven here on the
 * synthesized documents with an IAM policy evaluation engine.
 */
const e = env();
const CENTRAL = "arn:aws:iam::123456789012:role/logrelay/logrelay-test-central-log-distribution";
const ROLE_A = "arn:aws:iam::111111111111:role/logrelay/logrelay-log-distribution-acme";
const ROLE_B = "arn:aws:iam::222222222222:role/logrelay/logrelay-log-distribution-globex";
const STAGING_ARN = "arn:aws:s3:::logrelay-test-us-east-1-123456789012-staging";

const globalJson = synth(new GlobalStack(testApp(), e));
const customerA = synth(new CustomerAccountStack(testApp(), e, e.customers[0]!));
const customerB = synth(new CustomerAccountStack(testApp(), e, e.customers[1]!));
const regional = synth(new RegionalStack(testApp(), e, "us-east-1"));

const centralPermissions = JSON.parse(
  named(globalJson, "aws_iam_role_policy", "name", "assume-customer-roles").policy,
);
const trustOf = (json: typeof customerA) => JSON.parse(only(json, "aws_iam_role").assume_role_policy);
const permissionsOf = (json: typeof customerA) => JSON.parse(only(json, "aws_iam_role_policy").policy);
/** Terraform references resolved to what they become after apply. */
const resolveTokens = (text: string) =>
  text
    .replace(/\$\{aws_s3_bucket\.staging[^}]*\.arn\}/g, STAGING_ARN)
    .replace(/\$\$\{/g, "${")
    .replace(/\$\{aws_kms_key\.key\.arn\}/g, "arn:aws:kms:us-east-1:123456789012:key/k");
const writerPolicy = JSON.parse(resolveTokens(only(regional, "aws_iam_policy").policy));
const firehoseEnv = env({ ingestion: "firehose" });
const firehoseWriterPolicy = JSON.parse(
  resolveTokens(only(synth(new RegionalStack(testApp(), firehoseEnv, "us-east-1")), "aws_iam_policy").policy),
);
const STREAM_ARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/logrelay-test-us-east-1-ingest";

async function decide(simulation: Parameters<typeof runSimulation>[0]): Promise<string> {
  const result = await runSimulation(simulation, {});
  if ("errors" in result && result.errors) throw new Error(JSON.stringify(result.errors));
  return (result as { overallResult: string }).overallResult;
}

const assume = (
  role: string,
  trustJson: typeof customerA,
  account: string,
  externalId: string,
  tenant: string,
) =>
  decide({
    request: {
      principal: CENTRAL,
      action: "sts:AssumeRole",
      resource: { resource: role, accountId: account },
      contextVariables: {
        "sts:ExternalId": externalId,
        "aws:RequestTag/tenant_id": tenant,
        "aws:TagKeys": ["tenant_id"],
      },
    },
    identityPolicies: [{ name: "central", policy: centralPermissions }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: trustOf(trustJson),
  });

describe("notifications come only from the staging bucket and the topic (no injection)", () => {
  const operator = "arn:aws:iam::123456789012:role/ops/logrelay-operator";
  const withOperator = synth(
    new RegionalStack(testApp(), env({ queue: { operator_roles: [operator] } }), "us-east-1"),
  );
  const TOPIC = "arn:aws:sns:us-east-1:123456789012:logrelay-test-us-east-1-objects";
  const QUEUE = "arn:aws:sqs:us-east-1:123456789012:logrelay-test-us-east-1-delivery";
  const resolve = (text: string) =>
    resolveTokens(text)
      .replace(/\$\{aws_sns_topic\.[^}]*\.arn\}/g, TOPIC)
      .replace(/\$\{aws_sqs_queue\.[^}]*queue[^}]*\.arn\}/g, QUEUE);
  const policyOf = (json: typeof regional, type: string) => JSON.parse(resolve(only(json, type).policy));
  const call = (
    json: typeof regional,
    type: string,
    principal: string,
    action: string,
    resource: string,
    context: Record<string, string> = {},
  ) =>
    decide({
      request: {
        principal,
        action,
        resource: { resource, accountId: "123456789012" },
        contextVariables: { "aws:PrincipalArn": principal, ...context },
      },
      // A same-account principal whose own policy allows everything on SNS and SQS.
      identityPolicies: principal.startsWith("arn:")
        ? [
            {
              name: "broad",
              policy: {
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: ["sns:*", "sqs:*"], Resource: "*" }],
              },
            },
          ]
        : [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: policyOf(json, type),
    });
  const someone = "arn:aws:iam::123456789012:role/app-with-broad-rights";

  it("the topic: S3 publishes for the staging bucket; a same-account principal with sns:Publish may not", async () => {
    expect(
      await call(regional, "aws_sns_topic_policy", "s3.amazonaws.com", "sns:Publish", TOPIC, {
        "aws:SourceArn": STAGING_ARN,
        "aws:SourceAccount": "123456789012",
      }),
    ).toBe("Allowed");
    expect(await call(regional, "aws_sns_topic_policy", someone, "sns:Publish", TOPIC)).toBe(
      "ExplicitlyDenied",
    );
  });

  it("the queue: the topic sends; a same-account principal with sqs:SendMessage may not, a listed operator may", async () => {
    expect(
      await call(regional, "aws_sqs_queue_policy", "sns.amazonaws.com", "sqs:SendMessage", QUEUE, {
        "aws:SourceArn": TOPIC,
      }),
    ).toBe("Allowed");
    expect(await call(regional, "aws_sqs_queue_policy", someone, "sqs:SendMessage", QUEUE)).toBe(
      "ExplicitlyDenied",
    );
    expect(await call(withOperator, "aws_sqs_queue_policy", operator, "sqs:SendMessage", QUEUE)).toBe(
      "Allowed",
    );
    expect(await call(withOperator, "aws_sqs_queue_policy", someone, "sqs:SendMessage", QUEUE)).toBe(
      "ExplicitlyDenied",
    );
  });
});

describe("who may assume the central role (exact principals, no name patterns)", () => {
  const withCluster = env({
    clusters: [
      {
        id: "rosa-1",
        region: "us-east-1",
        oidc_issuer_url: "https://oidc.example.com/r",
        distributor: { image: "i:1" },
      },
    ],
  });
  const trust = JSON.parse(
    named(synth(new GlobalStack(testApp(), withCluster)), "aws_iam_role", "name", "-central-log-distribution")
      .assume_role_policy,
  );
  const caller = (principal: string) =>
    decide({
      request: {
        principal,
        action: "sts:AssumeRole",
        resource: { resource: CENTRAL, accountId: "123456789012" },
        // What AWS sets for every caller (the simulator needs it said).
        contextVariables: { "aws:PrincipalArn": principal },
      },
      identityPolicies: [
        {
          name: "may-assume",
          policy: {
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" }],
          },
        },
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: trust,
    });
  const role = (name: string) => `arn:aws:iam::123456789012:role/logrelay/${name}`;

  it.each([
    "logrelay-test-distributor-us-east-1",
    "logrelay-test-tenant-api-us-east-1",
    "logrelay-test-distributor-k8s-rosa-1",
  ])("%s may", async (name) => {
    expect(await caller(role(name))).toBe("Allowed");
  });

  it.each([
    // Each of these matched the old pattern logrelay-test-distributor-* / -tenant-api-*.
    "logrelay-test-distributor-us-east-1-copy",
    "logrelay-test-distributor-k8s-rosa-2",
    "logrelay-test-tenant-api-eu-west-1",
  ])("a new role named like one, %s, may not", async (name) => {
    expect(await caller(role(name))).not.toBe("Allowed");
  });
});

describe("cross-account isolation, evaluated on the synthesized policies", () => {
  it("the central role with tenant A's ExternalId and tag can assume A's role", async () => {
    expect(await assume(ROLE_A, customerA, "111111111111", "acme-ext-1", "acme")).toBe("Allowed");
  });

  it("and not B's role: wrong ExternalId, or A's tag with B's ExternalId", async () => {
    expect(await assume(ROLE_B, customerB, "222222222222", "acme-ext-1", "acme")).not.toBe("Allowed");
    expect(await assume(ROLE_B, customerB, "222222222222", "globex-ext-2", "acme")).not.toBe("Allowed");
    expect(await assume(ROLE_B, customerB, "222222222222", "globex-ext-2", "globex")).toBe("Allowed");
  });

  it("the central role cannot assume a customer role without an ExternalId", async () => {
    const result = await decide({
      request: {
        principal: CENTRAL,
        action: "sts:AssumeRole",
        resource: { resource: ROLE_A, accountId: "111111111111" },
        contextVariables: { "aws:RequestTag/tenant_id": "acme" },
      },
      identityPolicies: [{ name: "central", policy: centralPermissions }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: trustOf(customerA),
    });
    expect(result).not.toBe("Allowed");
  });

  it("the central role cannot assume arbitrary roles in customer accounts", async () => {
    const result = await decide({
      request: {
        principal: CENTRAL,
        action: "sts:AssumeRole",
        resource: {
          resource: "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole",
          accountId: "111111111111",
        },
        contextVariables: { "sts:ExternalId": "acme-ext-1", "aws:RequestTag/tenant_id": "acme" },
      },
      identityPolicies: [{ name: "central", policy: centralPermissions }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: CENTRAL }, Action: "sts:AssumeRole" }],
      },
    });
    expect(result).not.toBe("Allowed");
  });

  const customerWrites = (action: string, resource: string) =>
    decide({
      request: {
        principal: `${ROLE_A.replace(":role/logrelay/", ":assumed-role/").replace("arn:aws:iam::", "arn:aws:sts::")}/s`,
        action,
        resource: { resource, accountId: "111111111111" },
        contextVariables: {
          "s3:x-amz-acl": "bucket-owner-full-control",
          "s3:ResourceAccount": "111111111111",
        },
      },
      identityPolicies: [{ name: "customer", policy: permissionsOf(customerA) }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    });

  it("the customer role writes only under its log-group prefix", async () => {
    expect(
      await customerWrites(
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:111111111111:log-group:/logrelay/acme/acme:log-stream:c1/app/pod/2026-11-20",
      ),
    ).toBe("Allowed");
    // Another tenant's default prefix in the same account.
    expect(
      await customerWrites(
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:111111111111:log-group:/logrelay/globex/globex:log-stream:x",
      ),
    ).not.toBe("Allowed");
    expect(
      await customerWrites(
        "logs:PutLogEvents",
        "arn:aws:logs:us-east-1:111111111111:log-group:/security/audit:log-stream:x",
      ),
    ).not.toBe("Allowed");
    expect(
      await customerWrites(
        "logs:DeleteLogGroup",
        "arn:aws:logs:us-east-1:111111111111:log-group:/logrelay/acme",
      ),
    ).not.toBe("Allowed");
  });

  it("the customer role sets retention and tags only on log groups under its prefix", async () => {
    for (const action of ["logs:PutRetentionPolicy", "logs:TagResource", "logs:TagLogGroup"]) {
      expect(
        await customerWrites(action, "arn:aws:logs:us-east-1:111111111111:log-group:/logrelay/acme/acme"),
      ).toBe("Allowed");
      expect(
        await customerWrites(action, "arn:aws:logs:us-east-1:111111111111:log-group:/security/audit"),
      ).not.toBe("Allowed");
    }
    expect(
      await customerWrites(
        "logs:DeleteRetentionPolicy",
        "arn:aws:logs:us-east-1:111111111111:log-group:/logrelay/acme/acme",
      ),
    ).not.toBe("Allowed");
  });

  it("the customer role puts objects only under its tenant prefix of its bucket", async () => {
    expect(await customerWrites("s3:PutObject", "arn:aws:s3:::acme-logs/logs/acme/c1/app/pod/f.log.gz")).toBe(
      "Allowed",
    );
    expect(await customerWrites("s3:PutObject", "arn:aws:s3:::acme-logs/other/f.log.gz")).not.toBe("Allowed");
    expect(await customerWrites("s3:PutObject", "arn:aws:s3:::globex-private/logs/acme/f.log.gz")).not.toBe(
      "Allowed",
    );
  });

  describe("delivery into a bucket encrypted with the customer's KMS key (SSE-KMS)", () => {
    // The simulator takes no session policy: the session's rights are the role's policy AND the
    // session policy, so each is evaluated as an identity policy and both must allow.
    const sessionPolicy = JSON.parse(s3SessionPolicy("acme-logs", "logs/acme/", "us-east-1"));
    const KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    // KMS always consults the key policy; the default one lets the account's IAM policies decide.
    const DEFAULT_KEY_POLICY = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::111111111111:root" },
          Action: "kms:*",
          Resource: "*",
        },
      ],
    };
    const kms = (policy: object, action: string, context: Record<string, string>) =>
      decide({
        request: {
          principal: "arn:aws:sts::111111111111:assumed-role/logrelay-log-distribution-acme/s",
          action,
          resource: { resource: KEY, accountId: "111111111111" },
          contextVariables: context,
        },
        identityPolicies: [{ name: "p", policy: policy as typeof sessionPolicy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: DEFAULT_KEY_POLICY,
      });
    const both = async (action: string, context: Record<string, string>) => [
      await kms(permissionsOf(customerA), action, context),
      await kms(sessionPolicy, action, context),
    ];
    const viaS3 = { "kms:ViaService": "s3.us-east-1.amazonaws.com" };

    it.each(["kms:GenerateDataKey", "kms:Decrypt"])(
      "%s through S3: role and session both allow",
      async (action) => {
        expect(await both(action, viaS3)).toEqual(["Allowed", "Allowed"]);
      },
    );

    it("not directly, not through another service, not other key actions, not another account's key", async () => {
      expect(await both("kms:Decrypt", {})).toEqual(["ImplicitlyDenied", "ImplicitlyDenied"]);
      expect(await both("kms:Decrypt", { "kms:ViaService": "ec2.us-east-1.amazonaws.com" })).not.toContain(
        "Allowed",
      );
      expect(await both("kms:ScheduleKeyDeletion", viaS3)).not.toContain("Allowed");
      const otherKey = await decide({
        request: {
          principal: "arn:aws:sts::111111111111:assumed-role/logrelay-log-distribution-acme/s",
          action: "kms:GenerateDataKey",
          resource: { resource: "arn:aws:kms:us-east-1:222222222222:key/k", accountId: "222222222222" },
          contextVariables: viaS3,
        },
        identityPolicies: [{ name: "role", policy: permissionsOf(customerA) }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      });
      expect(otherKey).not.toBe("Allowed");
    });

    it("the CloudFormation template grants the customer role the same", () => {
      const template = customerRoleTemplate({
        tenantId: "acme",
        accountId: "111111111111",
        externalId: "acme-ext-1",
        centralRoleArn: CENTRAL,
        logGroupPrefix: "/logrelay/acme/",
        bucket: { name: "acme-logs", prefix: "logs/" },
      }) as {
        Resources: { LogDistributionRole: { Properties: { Policies: { PolicyDocument: unknown }[] } } };
      };
      expect(template.Resources.LogDistributionRole.Properties.Policies[0]!.PolicyDocument).toEqual(
        permissionsOf(customerA),
      );
    });
  });

  const collectorRequest = (cluster: string, action: string, resource: string, policy: unknown) =>
    decide({
      request: {
        principal: `arn:aws:sts::123456789012:assumed-role/logrelay-test-collector-${cluster}/vector`,
        action,
        resource: { resource, accountId: "123456789012" },
        contextVariables: { "aws:PrincipalTag/logrelay-cluster-id": cluster },
      },
      identityPolicies: [{ name: "writer", policy: policy as typeof writerPolicy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    });
  const collectorPut = (cluster: string, key: string, policy = writerPolicy) =>
    collectorRequest(cluster, "s3:PutObject", `${STAGING_ARN}/${key}`, policy);

  it("a collector role writes only keys of its own cluster", async () => {
    expect(await collectorPut("cluster-1", "acme/cluster-1/payment-service/pod-1/1.log.gz")).toBe("Allowed");
    expect(await collectorPut("cluster-1", "acme/cluster-2/payment-service/pod-1/1.log.gz")).not.toBe(
      "Allowed",
    );
    expect(await collectorPut("cluster-1", "cluster-1.log.gz")).not.toBe("Allowed");
    expect(await collectorPut("cluster-1", "_quarantine/cluster-1/invalid_tenant/1-u.quarantine")).toBe(
      "Allowed",
    );
    expect(await collectorPut("cluster-1", "_quarantine/cluster-2/invalid_tenant/1-u.quarantine")).not.toBe(
      "Allowed",
    );
  });

  it("a collector cannot claim another cluster by using its own id as a later key segment", async () => {
    // IAM wildcards span '/': without the Deny, "*/cluster-1/*" would match all of these.
    expect(await collectorPut("cluster-1", "acme/cluster-2/cluster-1/pod-1/1.log.gz")).toBe(
      "ExplicitlyDenied",
    );
    expect(await collectorPut("cluster-1", "acme/cluster-2/app/cluster-1/1.log.gz")).toBe("ExplicitlyDenied");
    expect(await collectorPut("cluster-1", "cluster-2/cluster-2/x/cluster-1/1.log.gz")).toBe(
      "ExplicitlyDenied",
    );
    // A tenant id equal to the cluster id is still the tenant segment.
    expect(await collectorPut("cluster-1", "cluster-1/cluster-1/app/pod-1/1.log.gz")).toBe("Allowed");
  });

  it("in firehose mode a collector puts records into the stream and only quarantines objects itself", async () => {
    expect(
      await collectorRequest("cluster-1", "firehose:PutRecordBatch", STREAM_ARN, firehoseWriterPolicy),
    ).toBe("Allowed");
    expect(
      await collectorRequest(
        "cluster-1",
        "firehose:PutRecordBatch",
        STREAM_ARN.replace("-ingest", "-other"),
        firehoseWriterPolicy,
      ),
    ).not.toBe("Allowed");
    expect(
      await collectorPut("cluster-1", "acme/cluster-1/payment-service/pod-1/1.log.gz", firehoseWriterPolicy),
    ).not.toBe("Allowed");
    expect(
      await collectorPut(
        "cluster-1",
        "_quarantine/cluster-1/missing_tenant/1-u.quarantine",
        firehoseWriterPolicy,
      ),
    ).toBe("Allowed");
    expect(
      await collectorPut(
        "cluster-1",
        "_quarantine/cluster-2/missing_tenant/1-u.quarantine",
        firehoseWriterPolicy,
      ),
    ).not.toBe("Allowed");
  });

  it("the distributor decrypts with the regional key only through S3 and SQS", async () => {
    const distributorPolicy = JSON.parse(
      resolveTokens(
        Object.values(all(regional, "aws_iam_role_policy")).find((p) => p.role.includes("distributor"))
          .policy,
      ),
    );
    const decrypt = (context: Record<string, string>) =>
      decide({
        request: {
          principal: "arn:aws:sts::123456789012:assumed-role/logrelay-test-distributor-us-east-1/fn",
          action: "kms:Decrypt",
          resource: { resource: "arn:aws:kms:us-east-1:123456789012:key/k", accountId: "123456789012" },
          contextVariables: context,
        },
        identityPolicies: [{ name: "distributor", policy: distributorPolicy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::123456789012:root" },
              Action: "kms:*",
              Resource: "*",
            },
          ],
        },
      });

    expect(await decrypt({ "kms:ViaService": "s3.us-east-1.amazonaws.com" })).toBe("Allowed");
    expect(await decrypt({ "kms:ViaService": "sqs.us-east-1.amazonaws.com" })).toBe("Allowed");
    expect(await decrypt({})).not.toBe("Allowed");
    expect(await decrypt({ "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" })).not.toBe("Allowed");
  });

  it("the distributor role's policy has no write into any bucket", () => {
    const policies = Object.values(all(regional, "aws_iam_role_policy")).map((p) => JSON.parse(p.policy));
    const writes = policies
      .flatMap((p) => p.Statement)
      .flatMap((s: { Action: unknown }) => [s.Action].flat())
      .filter((a) => /^s3:Put/.test(String(a)));
    expect(writes).toEqual([]);
  });
});

describe("the heartbeat tenant's role in the platform's account (a customer role like any other)", () => {
  const heartbeatRole = named(globalJson, "aws_iam_role", "name", "-logrelay-heartbeat.test");
  const heartbeatTrust = JSON.parse(heartbeatRole.assume_role_policy);
  const heartbeatPermissions = JSON.parse(
    named(globalJson, "aws_iam_role_policy", "name", "logrelay-delivery").policy,
  );
  const ARN = "arn:aws:iam::123456789012:role/logrelay/logrelay-log-distribution-logrelay-heartbeat.test";
  const externalId = heartbeatItems(e, "us-east-1").config.external_id;
  const assumeHeartbeat = (id: string, tenant: string) =>
    decide({
      request: {
        principal: CENTRAL,
        action: "sts:AssumeRole",
        resource: { resource: ARN, accountId: "123456789012" },
        contextVariables: {
          "sts:ExternalId": id,
          "aws:RequestTag/tenant_id": tenant,
          "aws:TagKeys": ["tenant_id"],
        },
      },
      identityPolicies: [{ name: "central", policy: centralPermissions }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: heartbeatTrust,
    });
  const writes = (resource: string) =>
    decide({
      request: {
        principal: ARN,
        action: "logs:PutLogEvents",
        resource: { resource, accountId: "123456789012" },
        contextVariables: {},
      },
      identityPolicies: [{ name: "heartbeat", policy: heartbeatPermissions }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    });

  it("the central role assumes it only with the heartbeat's ExternalId and tenant tag", async () => {
    expect(heartbeatRole.arn ?? ARN).toBeDefined();
    expect(await assumeHeartbeat(externalId, "logrelay-heartbeat")).toBe("Allowed");
    expect(await assumeHeartbeat("acme-3f9a1c0e5b7d4e21", "logrelay-heartbeat")).not.toBe("Allowed");
    expect(await assumeHeartbeat(externalId, "acme")).not.toBe("Allowed");
  });

  it("writes only its own environment's heartbeat log groups in the platform's account", async () => {
    const group = "arn:aws:logs:us-east-1:123456789012:log-group:/logrelay/test/logrelay-heartbeat/us-east-1";
    expect(await writes(`${group}:log-stream:rosa-1/logrelay-heartbeat/pod/2026-12-06`)).toBe("Allowed");
    const other = "arn:aws:logs:us-east-1:123456789012:log-group:/logrelay/prod/logrelay-heartbeat/us-east-1";
    expect(await writes(`${other}:log-stream:rosa-1/logrelay-heartbeat/pod/2026-12-06`)).not.toBe("Allowed");
    expect(
      await writes(
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/logrelay-test-us-east-1-distributor:log-stream:x",
      ),
    ).not.toBe("Allowed");
  });
});

describe("the audit trail is append-only", () => {
  const AUDIT = "arn:aws:dynamodb:us-east-1:123456789012:table/logrelay-test-us-east-1-tenant-audit";
  // Table ARNs as they are after apply (the simulator reads a Terraform reference as a policy variable).
  const policyOf = (role: string) =>
    JSON.parse(
      Object.values(all(regional, "aws_iam_role_policy"))
        .find((p) => p.role.includes(role))
        .policy.replace(
          /\$\{aws_dynamodb_table\.([a-z-]+)\.arn\}/g,
          "arn:aws:dynamodb:us-east-1:123456789012:table/logrelay-test-us-east-1-$1",
        )
        .replace(/\$\{[^}]+\}/g, "arn:aws:unresolved:::x"),
    );
  const act = (role: string, action: string) =>
    decide({
      request: {
        principal: `arn:aws:iam::123456789012:role/logrelay/${role}`,
        action,
        resource: { resource: AUDIT, accountId: "123456789012" },
        contextVariables: {},
      },
      identityPolicies: [{ name: role, policy: policyOf(role) }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    });

  it("the tenant API appends entries and reads them, and can neither change nor remove one", async () => {
    expect(await act("tenant-api", "dynamodb:PutItem")).toBe("Allowed");
    expect(await act("tenant-api", "dynamodb:Query")).toBe("Allowed");
    for (const action of ["dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"])
      expect(await act("tenant-api", action)).toBe("ExplicitlyDenied");
  });

  it("the distributor cannot touch it at all", async () => {
    for (const action of ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"])
      expect(await act("distributor", action)).not.toBe("Allowed");
  });
});
