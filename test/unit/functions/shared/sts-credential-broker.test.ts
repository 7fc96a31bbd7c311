import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { StsCredentialBroker } from "../../../../functions/shared/sts-credential-broker";
import { NOW } from "../../../harness/fakes";

describe("StsCredentialBroker", () => {
  const sts = mockClient(STSClient);
  afterEach(() => sts.reset());
  afterAll(() => sts.restore());
  const request = {
    roleArn: "arn:aws:iam::111111111111:role/LogDistribution",
    externalId: "ext-acme",
    tenantId: "acme",
    clusterId: "c1",
    region: "us-east-1",
    sessionPolicy: '{"Version":"2012-10-17","Statement":[]}',
  };
  const credentials = (id: string, expiresInMs: number) => ({
    Credentials: {
      AccessKeyId: id,
      SecretAccessKey: "s",
      SessionToken: "t",
      Expiration: new Date(NOW + expiresInMs),
    },
  });

  it("assumes the central role, then the customer's role with ExternalId, tags and policy; caches both", async () => {
    sts
      .on(AssumeRoleCommand, { RoleArn: "arn:aws:iam::123456789012:role/central" })
      .resolves(credentials("CENTRAL", 3600_000));
    sts.on(AssumeRoleCommand, { RoleArn: request.roleArn }).resolves(credentials("CUSTOMER", 3600_000));
    let now = NOW;
    const broker = new StsCredentialBroker({
      region: "us-east-1",
      centralRoleArn: "arn:aws:iam::123456789012:role/central",
      now: () => now,
      stsClient: () => new STSClient({ region: "us-east-1" }),
    });

    const [first, second] = await Promise.all([
      broker.destinationSession(request),
      broker.destinationSession(request),
    ]);
    now += 50 * 60_000; // 50 minutes: still more than 5 minutes left
    await broker.destinationSession(request);

    expect(first.credentials.accessKeyId).toBe("CUSTOMER");
    expect(second).toBe(first);
    expect(first.accountId).toBe("111111111111");
    const calls = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatchObject({
      RoleArn: request.roleArn,
      ExternalId: "ext-acme",
      Policy: request.sessionPolicy,
      Tags: [
        { Key: "tenant_id", Value: "acme" },
        { Key: "cluster_id", Value: "c1" },
      ],
    });
  });

  it("refreshes a session shortly before it expires, and does not cache failures", async () => {
    sts
      .on(AssumeRoleCommand, { RoleArn: "arn:aws:iam::123456789012:role/central" })
      .resolves(credentials("C", 3600_000));
    sts
      .on(AssumeRoleCommand, { RoleArn: request.roleArn })
      .rejectsOnce(Object.assign(new Error("denied"), { name: "AccessDenied" }))
      .resolves(credentials("X", 600_000));
    let now = NOW;
    const broker = new StsCredentialBroker({
      region: "us-east-1",
      centralRoleArn: "arn:aws:iam::123456789012:role/central",
      now: () => now,
      stsClient: () => new STSClient({ region: "us-east-1" }),
    });

    await expect(broker.destinationSession(request)).rejects.toMatchObject({
      name: "CustomerRoleRefusedError",
      cause: { name: "AccessDenied" },
    });
    await broker.destinationSession(request);
    now += 6 * 60_000; // 4 minutes left: refresh
    await broker.destinationSession(request);

    expect(sts.commandCalls(AssumeRoleCommand, { RoleArn: request.roleArn })).toHaveLength(3);
  });

  it("names a refusal of the central role as logrelay's own, not the customer's", async () => {
    sts
      .on(AssumeRoleCommand, { RoleArn: "arn:aws:iam::123456789012:role/central" })
      .rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
    const broker = new StsCredentialBroker({
      region: "us-east-1",
      centralRoleArn: "arn:aws:iam::123456789012:role/central",
      stsClient: () => new STSClient({ region: "us-east-1" }),
    });
    await expect(broker.destinationSession(request)).rejects.toMatchObject({ name: "AccessDenied" });
  });
});
