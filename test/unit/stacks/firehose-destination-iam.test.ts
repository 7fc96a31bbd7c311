import { runSimulation } from "@cloud-copilot/iam-simulate";
import { firehoseSessionPolicy } from "../../../functions/distributor/delivery/destinations/firehose";
import { CustomerAccountStack, customerRoleSpec } from "../../../stacks/customer-account-stack";
import { customerRoleTemplate } from "../../../stacks/customer-role";
import { env, only, synth, testApp } from "../../harness/synth";

/**
 * The Firehose destination's trust boundaries, evaluated on the documents themselves: the session
 * policy of a delivery allows records into the configured stream only, and a customer's role
 * (Terraform stack and CloudFormation template alike) into the streams it names only.
 */
const STREAM = "arn:aws:firehose:us-east-1:111111111111:deliverystream/acme-splunk";
const OTHER = "arn:aws:firehose:us-east-1:111111111111:deliverystream/acme-billing";
const ROLE = "arn:aws:iam::111111111111:role/logrelay/logrelay-log-distribution-acme";

const e = env({
  customers: [
    { tenant_id: "acme", account_id: "111111111111", external_id: "acme-ext-1", firehose_streams: [STREAM] },
    { tenant_id: "globex", account_id: "222222222222", external_id: "globex-ext-2" },
  ],
});

async function decide(policy: unknown, action: string, resource: string): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal: ROLE,
        action,
        resource: { resource, accountId: "111111111111" },
        contextVariables: {},
      },
      identityPolicies: [{ name: "p", policy: policy as Record<string, unknown> }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if ("errors" in result && result.errors) throw new Error(JSON.stringify(result.errors));
  return (result as { overallResult: string }).overallResult;
}

describe("a Firehose delivery's session policy", () => {
  const session = JSON.parse(firehoseSessionPolicy(STREAM));

  it("allows PutRecordBatch on the configured stream", async () => {
    expect(await decide(session, "firehose:PutRecordBatch", STREAM)).toBe("Allowed");
  });

  it.each([
    ["firehose:PutRecordBatch", OTHER],
    ["firehose:PutRecordBatch", "arn:aws:firehose:eu-west-1:111111111111:deliverystream/acme-splunk"],
    ["firehose:PutRecord", STREAM],
    ["firehose:DeleteDeliveryStream", STREAM],
    ["logs:PutLogEvents", "arn:aws:logs:us-east-1:111111111111:log-group:/logrelay/acme/x:log-stream:y"],
  ])("refuses %s on %s", async (action, resource) => {
    expect(await decide(session, action, resource)).not.toBe("Allowed");
  });
});

describe("a customer role that names a stream (Terraform stack and CloudFormation template)", () => {
  const stackPolicy = JSON.parse(
    only(synth(new CustomerAccountStack(testApp(), e, e.customers[0]!)), "aws_iam_role_policy").policy,
  );
  const template = customerRoleTemplate(customerRoleSpec(e, e.customers[0]!)) as {
    Resources: { LogDistributionRole: { Properties: { Policies: { PolicyDocument: unknown }[] } } };
  };
  const templatePolicy = template.Resources.LogDistributionRole.Properties.Policies[0]!.PolicyDocument;
  const withoutStreams = JSON.parse(
    only(synth(new CustomerAccountStack(testApp(), e, e.customers[1]!)), "aws_iam_role_policy").policy,
  );

  it.each([
    ["Terraform", stackPolicy],
    ["CloudFormation", templatePolicy],
  ])("%s: puts records into and describes the named stream, no other", async (_, policy) => {
    expect(await decide(policy, "firehose:PutRecordBatch", STREAM)).toBe("Allowed");
    expect(await decide(policy, "firehose:DescribeDeliveryStream", STREAM)).toBe("Allowed");
    expect(await decide(policy, "firehose:PutRecordBatch", OTHER)).not.toBe("Allowed");
    expect(await decide(policy, "firehose:UpdateDestination", STREAM)).not.toBe("Allowed");
  });

  it("a role without streams writes none", async () => {
    expect(
      await decide(
        withoutStreams,
        "firehose:PutRecordBatch",
        "arn:aws:firehose:us-east-1:222222222222:deliverystream/x",
      ),
    ).not.toBe("Allowed");
  });

  it("an environment naming another account's stream is refused, by its field", () => {
    expect(() =>
      env({
        customers: [
          {
            tenant_id: "acme",
            account_id: "111111111111",
            external_id: "acme-ext-1",
            firehose_streams: ["arn:aws:firehose:us-east-1:999999999999:deliverystream/x"],
          },
        ],
      }),
    ).toThrow(/customers\.0\.firehose_streams\.0: .* is not in account_id 111111111111/);
  });
});
