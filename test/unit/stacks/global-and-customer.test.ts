import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TerraformStack } from "cdktf";
import { buildApp } from "../../../stacks/app";
import { CustomerAccountStack, customerRoleSpec } from "../../../stacks/customer-account-stack";
import { customerRoleTemplate } from "../../../stacks/customer-role";
import { GlobalStack } from "../../../stacks/global-stack";
import { all, env, named, only, policyDocuments, synth, testApp } from "../../harness/synth";

const e = env();
const global = synth(new GlobalStack(testApp(), e));
const acme = synth(new CustomerAccountStack(testApp(), e, e.customers[0]!));

describe("GlobalStack: central log-distribution role", () => {
  const role = named(global, "aws_iam_role", "name", "-central-log-distribution");
  const trust = JSON.parse(role.assume_role_policy);
  const permissions = JSON.parse(
    named(global, "aws_iam_role_policy", "name", "assume-customer-roles").policy,
  );

  it("is trusted only by the environment's distributor and tenant-API roles", () => {
    expect(role).toMatchObject({ name: "logrelay-test-central-log-distribution", path: "/logrelay/" });
    expect(trust.Statement).toEqual([
      {
        Sid: "DistributorAndTenantApiRolesOnly",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::123456789012:root" },
        Action: "sts:AssumeRole",
        Condition: {
          ArnEquals: {
            "aws:PrincipalArn": [
              "arn:aws:iam::123456789012:role/logrelay/logrelay-test-distributor-us-east-1",
              "arn:aws:iam::123456789012:role/logrelay/logrelay-test-tenant-api-us-east-1",
            ],
          },
        },
      },
    ]);
  });

  it("may only assume logrelay customer roles, with an ExternalId and tenant session tags, and nothing else", () => {
    const actions = permissions.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    expect(actions.sort()).toEqual(["sts:AssumeRole", "sts:TagSession"]);
    for (const s of permissions.Statement)
      expect(s.Resource).toBe("arn:aws:iam::*:role/logrelay/logrelay-log-distribution-*");
    expect(permissions.Statement[0].Condition).toEqual({
      Null: { "sts:ExternalId": "false", "aws:RequestTag/tenant_id": "false" },
    });
    expect(permissions.Statement[1].Condition["ForAllValues:StringEquals"]).toEqual({
      "aws:TagKeys": ["tenant_id"],
    });
  });
});

describe("CustomerAccountStack", () => {
  const role = only(acme, "aws_iam_role");
  const trust = JSON.parse(role.assume_role_policy);
  const permissions = JSON.parse(only(acme, "aws_iam_role_policy").policy);

  it("trusts only the central role, with this tenant's ExternalId and tenant tag", () => {
    expect(role.name).toBe("logrelay-log-distribution-acme");
    expect(trust.Statement[0]).toEqual({
      Sid: "CentralRoleWithTenantExternalId",
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::123456789012:role/logrelay/logrelay-test-central-log-distribution" },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "sts:ExternalId": "acme-ext-1", "aws:RequestTag/tenant_id": "acme" } },
    });
  });

  it("writes only under its log-group prefix and its bucket prefix", () => {
    const byId = Object.fromEntries(permissions.Statement.map((s: { Sid: string }) => [s.Sid, s]));
    expect(byId.WriteLogsUnderPrefix.Resource).toEqual([
      "arn:aws:logs:*:111111111111:log-group:/logrelay/acme/*",
      "arn:aws:logs:*:111111111111:log-group:/logrelay/acme/*:log-stream:*",
    ]);
    expect(byId.PutObjectsUnderTenantPrefix).toMatchObject({
      Action: "s3:PutObject",
      Resource: "arn:aws:s3:::acme-logs/logs/acme/*",
      Condition: {
        StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "s3:ResourceAccount": "111111111111" },
      },
    });
  });

  it("deploys through a role in the customer's account", () => {
    const local = env({ emulator: true });
    const json = synth(new CustomerAccountStack(testApp(), local, local.customers[1]!));
    expect(json.provider.aws[0].assume_role[0].role_arn).toBe(
      "arn:aws:iam::222222222222:role/logrelay-deploy",
    );
    expect(all(json, "aws_s3_bucket")).toEqual({});
  });
});

describe("every IAM document of every stack", () => {
  // Wildcard actions allowed, each with its reason.
  const allowedWildcards: Record<string, string> = {
    AccountAdministersKeyThroughIam: "KMS key policies need the account root statement to stay manageable",
    DenyInsecureTransport: "a Deny of every action without TLS",
    S3AndSnsEncryptNotifications: "GenerateDataKey* covers the two data-key calls the services make",
    CloudWatchLogsEncryptOwnLogGroups: "the statement AWS documents for KMS-encrypted log groups",
  };

  it("has no wildcard action without a written reason", () => {
    const cluster = { id: "c1", region: "us-east-1", oidc_issuer_url: "https://oidc.example.com/c1" };
    const app = buildApp(testApp(), [
      env({ clusters: [{ ...cluster, openshift: true, distributor: { image: "img:1", keda: {} } }] }),
      env({ name: "local", emulator: true, clusters: [cluster] }),
      env({ name: "fh", ingestion: "firehose", firehose: { format: "parquet" }, clusters: [cluster] }),
    ]);
    const stacks = app.node.children.filter((c) => "toTerraform" in c);
    expect(stacks.length).toBe(15);
    for (const stack of stacks) {
      for (const [where, doc] of policyDocuments(synth(stack as never))) {
        for (const s of doc.Statement) {
          const wild = [s.Action].flat().filter((a) => a.includes("*"));
          if (wild.length > 0)
            expect([where, s.Sid, allowedWildcards[s.Sid ?? ""]]).toEqual([where, s.Sid, expect.any(String)]);
        }
      }
    }
  });
});

describe("customer CloudFormation template", () => {
  it("passes cfn-lint and grants what the Terraform stack grants", () => {
    const spec = customerRoleSpec(e, e.customers[0]!);
    const template = customerRoleTemplate(spec);
    const dir = join(__dirname, "..", "..", "..", ".tmp");
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "customer-acme.template.json");
    writeFileSync(path, JSON.stringify(template, null, 2));

    const lint = spawnSync("cfn-lint", [path], { encoding: "utf8" });

    if (lint.error) throw new Error("cfn-lint is not installed: pip install cfn-lint");
    expect(`${lint.stdout}${lint.stderr}`).toBe("");
    expect(lint.status).toBe(0);
    const props = (template.Resources as Record<string, { Properties: Record<string, unknown> }>)
      .LogDistributionRole!.Properties;
    expect(props.AssumeRolePolicyDocument).toEqual(JSON.parse(only(acme, "aws_iam_role").assume_role_policy));
    expect((props.Policies as { PolicyDocument: unknown }[])[0]!.PolicyDocument).toEqual(
      JSON.parse(only(acme, "aws_iam_role_policy").policy),
    );
  });
});

describe("the app", () => {
  it("declares the deploy order: global first, then regions and customers, a region before its clusters", () => {
    const clusters = [
      { id: "c-east", region: "us-east-1", oidc_issuer_url: "https://oidc.example.com/e" },
      { id: "c-west", region: "eu-west-1", oidc_issuer_url: "https://oidc.example.com/w" },
    ];
    const app = buildApp(testApp(), [env({ regions: ["us-east-1", "eu-west-1"], clusters })]);

    const order = Object.fromEntries(
      app.node.children
        .filter((c): c is TerraformStack => "toTerraform" in c)
        .map((stack) => [stack.node.id, stack.dependencies.map((d) => d.node.id)]),
    );

    expect(order).toEqual({
      "logrelay-test-global": [],
      "logrelay-test-us-east-1": ["logrelay-test-global"],
      "logrelay-test-eu-west-1": ["logrelay-test-global"],
      "logrelay-test-customer-acme": ["logrelay-test-global"],
      "logrelay-test-customer-globex": ["logrelay-test-global"],
      "logrelay-test-cluster-c-east": ["logrelay-test-us-east-1"],
      "logrelay-test-cluster-c-west": ["logrelay-test-eu-west-1"],
    });
  });
});
