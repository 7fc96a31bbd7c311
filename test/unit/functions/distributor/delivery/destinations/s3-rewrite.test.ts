import { gunzipSync, gzipSync } from "node:zlib";
import {
  partBatcher,
  partKey,
} from "../../../../../../functions/distributor/delivery/destinations/s3-rewrite";
import { Deadline } from "../../../../../../functions/distributor/delivery/retry";
import { BUCKET, fakeWorld, KEY, NOW, notificationOf, s3Config } from "../../../../../harness/fakes";

const lines = (records: Record<string, unknown>[]) =>
  gzipSync(records.map((r) => JSON.stringify(r)).join("\n"));
const at = new Date(NOW).toISOString();

describe("the S3 destination of a config with rules", () => {
  it("writes the records the filter lets through, redacted, as gzipped NDJSON at the copy's key", async () => {
    const w = fakeWorld();
    w.configs.items.set("acme", [
      s3Config("acme", "111111111111", {
        filter: { exclude: [{ field: "message", regex: "healthz" }] },
        redact: ["email", { name: "ticket", regex: "TCK-[0-9]{6}" }],
      }),
    ]);
    w.objects.objects.set(
      `${BUCKET}/${KEY}`,
      lines([
        { message: "GET /healthz", timestamp: at },
        { message: "mail jane@example.com about TCK-123456", timestamp: at, kubernetes: { pod_name: "p-1" } },
        { message: "plain", timestamp: at },
      ]),
    );

    const result = await w.engine.processMessage(notificationOf());

    expect(result.objects[0]!.destinations[0]).toMatchObject({
      type: "s3",
      status: "delivered",
      eventsDelivered: 2,
      eventsFiltered: 1,
      batches: 1,
      filtered: { "exclude.0": 1 },
      redactions: { email: 1, ticket: 1 },
    });
    expect(w.writer.puts).toHaveLength(1);
    const put = w.writer.puts[0]!;
    expect(put.request).toMatchObject({
      bucket: "acme-archive",
      key: "ROSA/cluster-logs/acme/cluster-1/payment-service/payment-1/1763632800-u.log.gz",
      contentType: "application/x-ndjson",
      expectedBucketOwner: "111111111111",
      metadata: expect.objectContaining({ "logrelay-part": "1", "logrelay-source-key": KEY }),
    });
    expect(gunzipSync(put.body).toString()).toBe(
      `${JSON.stringify({ message: "mail [REDACTED:email] about [REDACTED:ticket]", timestamp: at, kubernetes: { pod_name: "p-1" } })}\n${JSON.stringify({ message: "plain", timestamp: at })}\n`,
    );
  });

  it("without rules the object is still copied as it is", async () => {
    const w = fakeWorld();
    w.configs.items.set("acme", [s3Config("acme", "111111111111")]);
    const body = lines([{ message: "x@example.com", timestamp: at }]);
    w.objects.objects.set(`${BUCKET}/${KEY}`, body);

    await w.engine.processMessage(notificationOf());

    expect(w.writer.puts[0]!.body.equals(body)).toBe(true);
  });

  it("a large object is written in parts, each checkpointed; a retry writes the failed part again, none twice", async () => {
    const w = fakeWorld();
    w.configs.items.set("acme", [s3Config("acme", "111111111111", { redact: ["email"] })]);
    const message = "y".repeat(1_000);
    w.objects.objects.set(
      `${BUCKET}/${KEY}`,
      lines(Array.from({ length: 70_000 }, (_, i) => ({ message: `${i} ${message}`, timestamp: at }))),
    );
    // The first attempt writes its first part, then S3 fails until the attempt's time is up.
    let failing = true;
    w.writer.fail = (put) =>
      failing && put > 1
        ? Object.assign(new Error("We encountered an internal error."), {
            name: "InternalError",
            $metadata: { httpStatusCode: 500 },
          })
        : undefined;
    const first = await w.engine.processMessage(
      notificationOf(),
      {},
      Deadline.after(60_000, () => w.clock.now),
    );
    failing = false;
    const second = await w.engine.processMessage(notificationOf());

    expect(first.status).toBe("failed_transient");
    expect(first.objects[0]!.destinations[0]).toMatchObject({
      batches: 1,
      eventsDelivered: expect.any(Number),
    });
    expect(second.objects[0]!.destinations[0]!.resumedFrom?.batches).toBe(1);
    expect(second.objects[0]!.destinations[0]).toMatchObject({
      status: "delivered",
      eventsDelivered: 70_000,
      batches: 3,
    });
    const keys = w.writer.puts.map((p) => p.request.key.split("/").at(-1));
    expect(keys).toEqual([
      "1763632800-u.log.gz",
      "1763632800-u.part-0002.log.gz",
      "1763632800-u.part-0003.log.gz",
    ]);
    const written = w.writer.puts.flatMap((p) => gunzipSync(p.body).toString().trimEnd().split("\n"));
    expect(written).toHaveLength(70_000);
    expect(new Set(written).size).toBe(70_000);
  });
});

describe("partKey and partBatcher", () => {
  it("names parts after the copy's key; a Parquet object becomes gzipped NDJSON", () => {
    expect(partKey("p/t/c/a/pod/1-u.log.gz", 1)).toBe("p/t/c/a/pod/1-u.log.gz");
    expect(partKey("p/t/c/a/pod/1-u.log.gz", 12)).toBe("p/t/c/a/pod/1-u.part-0012.log.gz");
    expect(partKey("p/t/c/a/pod/batch.parquet", 1)).toBe("p/t/c/a/pod/batch.json.gz");
    expect(partKey("p/t/c/a/pod/batch.parquet", 2)).toBe("p/t/c/a/pod/batch.part-0002.json.gz");
    expect(partKey("p/t/c/a/pod/plain", 2)).toBe("p/t/c/a/pod/plain.part-0002.gz");
  });

  it("closes a part before it would pass its size; a longer line is a part of its own", () => {
    const b = partBatcher(10);
    const line = (n: number) => Buffer.alloc(n);
    expect(b.add(line(6), 6)).toBeUndefined();
    expect(b.add(line(4), 4)).toBeUndefined();
    expect(b.add(line(25), 25)?.bytes).toBe(10);
    expect(b.add(line(1), 1)?.bytes).toBe(25);
    expect(b.flush()?.bytes).toBe(1);
  });
});
