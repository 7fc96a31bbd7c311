import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { contentTypeOf, S3ObjectWriter } from "../../../../../functions/distributor/adapters/s3-objects";
import type { DestinationSession } from "../../../../../functions/distributor/ports";

const session: DestinationSession = {
  credentials: { accessKeyId: "AK", secretAccessKey: "S" },
  region: "us-east-1",
  accountId: "111111111111",
  cacheKey: "k",
};

describe("S3ObjectWriter", () => {
  const s3 = mockClient(S3Client);
  afterEach(() => s3.reset());
  afterAll(() => s3.restore());
  it("writes with ExpectedBucketOwner, bucket-owner-full-control and the metadata", async () => {
    s3.on(PutObjectCommand).resolves({});
    const writer = new S3ObjectWriter(() => new S3Client({ region: "us-east-1" }));
    async function* body() {
      yield Buffer.from("abc");
    }

    await writer.putObject(session, {
      bucket: "acme-archive",
      key: "logs/acme/c/a/p/f.log.gz",
      body: body(),
      contentLength: 3,
      expectedBucketOwner: "111111111111",
      metadata: { "logrelay-tenant-id": "acme" },
    });

    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({
      Bucket: "acme-archive",
      Key: "logs/acme/c/a/p/f.log.gz",
      ExpectedBucketOwner: "111111111111",
      ACL: "bucket-owner-full-control",
      ContentLength: 3,
      ContentEncoding: "gzip",
      Metadata: { "logrelay-tenant-id": "acme" },
    });
  });
});

describe("contentTypeOf (the customer copy's type)", () => {
  it.each([
    ["acme/c/a/p/f.log.gz", undefined, "application/x-ndjson"],
    ["acme/c/a/p/f.parquet", undefined, "application/vnd.apache.parquet"],
    ["acme/c/a/p/f.parquet", "application/octet-stream", "application/vnd.apache.parquet"],
    ["acme/c/a/p/f.log.gz", "binary/octet-stream", "application/x-ndjson"],
    ["acme/c/a/p/f.log.gz", "application/json", "application/json"],
  ])("%s with source type %s -> %s", (key, source, expected) => {
    expect(contentTypeOf(key, source)).toBe(expected);
  });
});
