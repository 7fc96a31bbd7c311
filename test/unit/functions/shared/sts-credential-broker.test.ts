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
    region: "us-east-1",
    sessionPolicy: '{"Version":"2012-10-17","Statement":[]}',
  };
  const client = new STSClient({ region: "us-east-1" });
  /** As the SDK does when it signs: a client's credential provider is called before its request. */
  const stsClient = (provider?: () => Promise<unknown>) =>
    ({
      send: async (command: AssumeRoleCommand) => {
        await provider?.();
        return client.send(command);
      },
    }) as unknown as Pick<STSClient, "send">;
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
      stsClient,
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
      Tags: [{ Key: "tenant_id", Value: "acme" }],
    });
  });

  it("refreshes a session shortly before it expires, and does not cache failures", async () => {
    let now = NOW;
    sts
      .on(AssumeRoleCommand, { RoleArn: "arn:aws:iam::123456789012:role/central" })
      .resolves(credentials("C", 3600_000));
    sts
      .on(AssumeRoleCommand, { RoleArn: request.roleArn })
      .rejectsOnce(Object.assign(new Error("denied"), { name: "AccessDenied" }))
      .callsFake(() => credentials("X", now - NOW + 600_000));
    const broker = new StsCredentialBroker({
      region: "us-east-1",
      centralRoleArn: "arn:aws:iam::123456789012:role/central",
      now: () => now,
      stsClient,
    });

    await expect(broker.destinationSession(request)).rejects.toMatchObject({
      name: "CustomerRoleRefusedError",
      cause: { name: "AccessDenied" },
    });
    const first = await broker.destinationSession(request);
    now += 6 * 60_000; // 4 minutes left: the still-valid session serves while one refresh runs
    const during = await Promise.all(Array.from({ length: 20 }, () => broker.destinationSession(request)));
    expect(during.every((s) => s === first)).toBe(true);
    await new Promise((r) => setImmediate(r));
    const refreshed = await broker.destinationSession(request);

    expect(refreshed).not.toBe(first);
    expect(sts.commandCalls(AssumeRoleCommand, { RoleArn: request.roleArn })).toHaveLength(3);
  });

  it("one AssumeRole per role and policy, however many clusters and objects; one call for concurrent requests", async () => {
    sts.on(AssumeRoleCommand).resolves(credentials("ANY", 3600_000));
    const broker = new StsCredentialBroker({
      region: "us-east-1",
      centralRoleArn: "arn:aws:iam::123456789012:role/central",
      now: () => NOW,
      stsClient,
    });
    const other = { ...request, sessionPolicy: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny"}]}' };

    await Promise.all(
      Array.from({ length: 50 }, (_, i) => broker.destinationSession(i % 2 ? request : other)),
    );

    // The central role once, then one call per (role, policy): 3, not 51.
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(3);
  });

  it("names a refusal of the central role as logrelay's own, not the customer's", async () => {
    sts
      .on(AssumeRoleCommand, { RoleArn: "arn:aws:iam::123456789012:role/central" })
      .rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
    const broker = new StsCredentialBroker({
      region: "us-east-1",
      centralRoleArn: "arn:aws:iam::123456789012:role/central",
      stsClient,
    });
    await expect(broker.destinationSession(request)).rejects.toMatchObject({ name: "AccessDenied" });
  });
});
