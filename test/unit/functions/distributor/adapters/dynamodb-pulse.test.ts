import { DynamoDbPulseStore } from "../../../../../functions/distributor/adapters/dynamodb-pulse";
import { distributorStatements } from "../../../../../stacks/policies";

/** The DynamoDB actions each document-client command needs. */
const ACTION: Record<string, string> = {
  GetCommand: "dynamodb:GetItem",
  UpdateCommand: "dynamodb:UpdateItem",
  QueryCommand: "dynamodb:Query",
  PutCommand: "dynamodb:PutItem",
};

describe("DynamoDbPulseStore", () => {
  it("uses only what the distributor's role may do on the ledger (get, update, query the index)", async () => {
    const sent: string[] = [];
    const db = {
      send: async (command: object) => {
        sent.push(command.constructor.name);
        return command.constructor.name === "QueryCommand" ? { Items: [] } : {};
      },
    };
    const store = new DynamoDbPulseStore(db as never, "ledger", 29);
    await store.get("rosa-1");
    const pulse = {
      clusterId: "rosa-1",
      series: "s",
      lastSeq: 1,
      missing: [],
      gaps: 0,
      lastEmittedAt: "2026-12-06T21:00:00.000Z",
      lastDeliveredAt: "2026-12-06T21:01:00.000Z",
      lagSeconds: 60,
      version: 1,
    };
    await store.put(pulse, undefined);
    await store.put({ ...pulse, version: 2 }, 1);
    await store.all();
    const granted = distributorStatements({
      queueArn: "q",
      stagingBucketArn: "b",
      keyArn: "k",
      configTableArn: "c",
      registryTableArn: "r",
      ledgerTableArn: "ledger",
      centralRoleArn: "central",
      alarmTopicArn: "t",
      region: "us-east-1",
    })
      .filter((s) => String(s.Resource).startsWith("ledger"))
      .flatMap((s) => [s.Action].flat());
    expect([...new Set(sent.map((c) => ACTION[c]))].sort()).toEqual(
      ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"].sort(),
    );
    for (const c of sent) expect(granted).toContain(ACTION[c]);
  });
});
