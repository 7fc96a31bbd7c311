import { decodeEventKey, parseObjectKey } from "../../../../../functions/distributor/admission/object-key";

describe("parseObjectKey", () => {
  it("reads the five segments of a staged key", () => {
    expect(
      parseObjectKey("acme-corp/cluster-01/payment-service/payment-7d9f-x2/1700000000-uuid.log.gz"),
    ).toEqual({
      tenantId: "acme-corp",
      clusterId: "cluster-01",
      application: "payment-service",
      podName: "payment-7d9f-x2",
      file: "1700000000-uuid.log.gz",
    });
  });

  it.each([
    ["", /key is empty/],
    ["acme/c1/app/pod", /expected 5 segments .* got 4/],
    ["acme/c1/app/pod/extra/file.gz", /got 6/],
    ["acme//app/pod/f.gz", /clusterId ""/],
    ["acme/c1/../pod/f.gz", /application "\.\."/],
    ["acme/c1/./pod/f.gz", /application "\."/],
    ["Acme/c1/app/pod/f.gz", /tenantId "Acme"/],
    ["-acme/c1/app/pod/f.gz", /tenantId/],
    ["acme/c1/app/pod name/f.gz", /podName "pod name"/],
    ["acme/c1/app/pod\u0000x/f.gz", /podName/],
    ["acme/c1/app\n/pod/f.gz", /application/],
    [`acme/c1/${"a".repeat(254)}/pod/f.gz`, /application/],
    [`${"a".repeat(64)}/c1/app/pod/f.gz`, /tenantId/],
    ["acme/c1/app/pod/..", /segment file "\.\."/],
    ["acme/c1/app/pod/.", /segment file "\."/],
    ["acme/c1/app/pod/f\u0007.gz", /segment file/],
    ["acme/c1/app/pod/f\u007f.gz", /segment file/],
    [`acme/c1/app/pod/${"f".repeat(256)}`, /segment file/],
    ["x/".repeat(600), /over 1024 characters/],
    ["_quarantine/c1/missing_tenant/1795384129-u.quarantine", /not tenant data: collector quarantine/],
    [
      "_firehose-errors/activePartitionExceeded/2026/11/22/s-1-2026-11-22-10-15-30-u.gz",
      /not tenant data: Firehose error output.*logrelay firehose redrive/,
    ],
  ])("refuses %j", (key, message) => {
    expect(() => parseObjectKey(key)).toThrow(message);
  });
});

describe("file names S3 and Vector allow are accepted (the last segment is never a stream name)", () => {
  it.each([
    "2026-11-28T21:54:48-9b2c7e3a-1f0d-4c5e-8a7b-2d3e4f5a6b7c.json.gz",
    "2026-11-28T21:54:48+01:00-x.log.gz",
    "file with spaces (1).gz",
    ".hidden.gz",
    "ünïcødé-日志.gz",
    "f".repeat(255),
  ])("accepts %j", (file) => {
    expect(parseObjectKey(`acme/c1/app/pod/${file}`).file).toBe(file);
  });
});

describe("decodeEventKey", () => {
  it("decodes '+' as space and %XX exactly once", () => {
    expect(decodeEventKey("acme%2Fc1%2Fapp%2Fpod%2Ff+1%252B.gz")).toBe("acme/c1/app/pod/f 1%2B.gz");
  });

  it("refuses a broken escape with a MalformedKeyError", () => {
    expect(() => decodeEventKey("acme/%E0%A4%A/x")).toThrow(/not valid URL encoding/);
  });
});
