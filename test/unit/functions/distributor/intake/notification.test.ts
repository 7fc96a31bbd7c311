import { parseNotification } from "../../../../../functions/distributor/intake/notification";
import { s3Event, snsEnvelope } from "../../../../harness/factories";

describe("parseNotification", () => {
  it("unwraps an SNS envelope holding an S3 event and decodes the key once", () => {
    const body = JSON.stringify(snsEnvelope(s3Event("central", "t1/c1/app/pod/file 1.log.gz")));

    const parsed = parseNotification(body);

    expect(parsed.objects).toHaveLength(1);
    expect(parsed.objects[0]).toMatchObject({
      bucket: "central",
      key: "t1/c1/app/pod/file 1.log.gz",
      size: 100,
    });
  });

  it("takes a raw S3 event with several records", () => {
    const event = s3Event("central", "t1/c1/a/p/1.gz");
    event.Records.push({ ...s3Event("central", "t1/c1/a/p/2.gz").Records[0]! });

    expect(parseNotification(JSON.stringify(event)).objects.map((o) => o.key)).toEqual([
      "t1/c1/a/p/1.gz",
      "t1/c1/a/p/2.gz",
    ]);
  });

  it("decodes moto's %2F-encoded slashes", () => {
    const event = s3Event("central", "x");
    event.Records[0]!.s3.object.key = "t1%2Fc1%2Fa%2Fp%2F1.gz";
    expect(parseNotification(JSON.stringify(event)).objects[0]!.key).toBe("t1/c1/a/p/1.gz");
  });

  it("reads an event time without a zone as UTC (moto drops the Z)", () => {
    const event = s3Event("central", "t1/c1/a/p/1.gz");
    event.Records[0]!.eventTime = "2026-11-22T21:02:23.917531";
    expect(parseNotification(JSON.stringify(event)).objects[0]!.eventTime.toISOString()).toBe(
      "2026-11-22T21:02:23.917Z",
    );
  });

  it("ignores s3:TestEvent, in an envelope or not", () => {
    const test = { Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "central" };
    expect(parseNotification(JSON.stringify(test))).toEqual({ objects: [], ignored: ["s3:TestEvent"] });
    expect(parseNotification(JSON.stringify(snsEnvelope(test))).objects).toEqual([]);
  });

  it("ignores records that are not ObjectCreated, saying which", () => {
    const parsed = parseNotification(
      JSON.stringify(s3Event("central", "t/c/a/p/f.gz", { eventName: "ObjectRemoved:Delete" })),
    );
    expect(parsed.objects).toEqual([]);
    expect(parsed.ignored).toEqual(["ObjectRemoved:Delete t/c/a/p/f.gz"]);
  });

  it("keeps an undecodable key raw so key validation refuses that record alone", () => {
    const event = s3Event("central", "x");
    event.Records[0]!.s3.object.key = "t1/c1/a/p/%E0%A4%A";
    expect(parseNotification(JSON.stringify(event)).objects[0]!.key).toBe("t1/c1/a/p/%E0%A4%A");
  });

  it.each([
    ["not json", /message body is not JSON/],
    [JSON.stringify({ Type: "Notification", Message: "{oops" }), /SNS Message is not JSON/],
    [JSON.stringify({ hello: "world" }), /neither an S3 event nor an SNS envelope/],
    [
      JSON.stringify({ Records: [{ eventSource: "aws:s3", eventName: "ObjectCreated:Put" }] }),
      /Records\[0\] is not an S3 event record/,
    ],
    [JSON.stringify({ Records: [{ eventSource: "aws:sqs" }] }), /Records\[0\]/],
  ])("refuses %s with a MalformedMessageError", (body, message) => {
    expect(() => parseNotification(body)).toThrow(message);
    try {
      parseNotification(body);
    } catch (e) {
      expect((e as Error).name).toBe("MalformedMessageError");
    }
  });
});
