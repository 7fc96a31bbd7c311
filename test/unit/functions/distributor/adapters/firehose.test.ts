import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { FirehoseClient } from "@aws-sdk/client-firehose";
import { FirehoseAdapter } from "../../../../../functions/distributor/adapters/firehose";
import { classify, DestinationDeniedError } from "../../../../../functions/distributor/errors";

/** Firehose's wire answers (awsJson1_1), one per call, from a local endpoint: the real client parses them. */
function endpoint(answers: { status: number; body: unknown }[]) {
  const seen: { target: string; body: { DeliveryStreamName: string; Records: { Data: string }[] } }[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      seen.push({ target: String(req.headers["x-amz-target"]), body: JSON.parse(body) });
      const answer = answers.shift() ?? { status: 500, body: { __type: "InternalFailure" } };
      res.writeHead(answer.status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(answer.body));
    });
  });
  return {
    seen,
    async client() {
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      return new FirehoseClient({
        region: "us-east-1",
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        credentials: { accessKeyId: "a", secretAccessKey: "b" },
        maxAttempts: 1,
      });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("FirehoseAdapter, through the real client", () => {
  const records = ["a", "b", "c"].map((m) => Buffer.from(`{"message":"${m}"}\n`));

  it("puts the records and reports those refused one by one, with their codes", async () => {
    const e = endpoint([
      {
        status: 200,
        body: {
          FailedPutCount: 1,
          Encrypted: false,
          RequestResponses: [
            { RecordId: "r1" },
            { ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down." },
            { RecordId: "r3" },
          ],
        },
      },
    ]);
    try {
      const result = await new FirehoseAdapter(await e.client()).putRecordBatch("acme-stream", records);
      expect(result).toEqual({
        failed: [{ index: 1, code: "ServiceUnavailableException", message: "Slow down." }],
      });
      expect(e.seen[0]!.target).toBe("Firehose_20150804.PutRecordBatch");
      expect(e.seen[0]!.body.DeliveryStreamName).toBe("acme-stream");
      expect(e.seen[0]!.body.Records.map((r) => Buffer.from(r.Data, "base64").toString())).toEqual(
        records.map(String),
      );
    } finally {
      await e.close();
    }
  });

  it.each([
    ["ResourceNotFoundException", "Firehose acme-stream under account 111111111111 not found."],
    ["AccessDeniedException", "User is not authorized to perform: firehose:PutRecordBatch"],
    ["InvalidKMSResourceException", "The KMS key is disabled"],
  ])("%s is the customer's side: DestinationDeniedError (the delivery parks)", async (type, message) => {
    const e = endpoint([{ status: 400, body: { __type: type, message } }]);
    try {
      const error = await new FirehoseAdapter(await e.client())
        .putRecordBatch("acme-stream", records)
        .catch((x) => x);
      expect(error).toBeInstanceOf(DestinationDeniedError);
      expect(error.message).toBe(`Firehose refused acme-stream: ${message}`);
    } finally {
      await e.close();
    }
  });

  it("a whole call throttled (ServiceUnavailableException, 503) stays transient: retried by time", async () => {
    const e = endpoint([
      { status: 503, body: { __type: "ServiceUnavailableException", message: "Slow down." } },
    ]);
    try {
      const error = await new FirehoseAdapter(await e.client())
        .putRecordBatch("acme-stream", records)
        .catch((x) => x);
      expect(error.name).toBe("ServiceUnavailableException");
      expect(classify(error)).toBe("transient");
    } finally {
      await e.close();
    }
  });
});
