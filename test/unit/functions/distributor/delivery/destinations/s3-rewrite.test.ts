import { randomBytes } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  MEMBER_BYTES,
  PART_BYTES,
  PartBatcher,
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
    // Hex text compresses about 2:1: 12,000 lines of 1 KB make two parts of about 4 MiB or less.
    w.objects.objects.set(
      `${BUCKET}/${KEY}`,
      lines(
        Array.from({ length: 12_000 }, (_, i) => ({
          message: `${i} ${randomBytes(500).toString("hex")}`,
          timestamp: at,
        })),
      ),
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
      eventsDelivered: 12_000,
      batches: 2,
    });
    const keys = w.writer.puts.map((p) => p.request.key.split("/").at(-1));
    expect(keys).toEqual(["1763632800-u.log.gz", "1763632800-u.part-0002.log.gz"]);
    expect(Math.max(...w.writer.puts.map((p) => p.body.length))).toBeLessThan(PART_BYTES + MEMBER_BYTES);
    const written = w.writer.puts.flatMap((p) => gunzipSync(p.body).toString().trimEnd().split("\n"));
    expect(written).toHaveLength(12_000);
    expect(new Set(written).size).toBe(12_000);
  });
});

describe("partKey and PartBatcher", () => {
  it("names parts after the copy's key; a Parquet object becomes gzipped NDJSON", () => {
    expect(partKey("p/t/c/a/pod/1-u.log.gz", 1)).toBe("p/t/c/a/pod/1-u.log.gz");
    expect(partKey("p/t/c/a/pod/1-u.log.gz", 12)).toBe("p/t/c/a/pod/1-u.part-0012.log.gz");
    expect(partKey("p/t/c/a/pod/batch.parquet", 1)).toBe("p/t/c/a/pod/batch.json.gz");
    expect(partKey("p/t/c/a/pod/batch.parquet", 2)).toBe("p/t/c/a/pod/batch.part-0002.json.gz");
    expect(partKey("p/t/c/a/pod/plain", 2)).toBe("p/t/c/a/pod/plain.part-0002.gz");
  });

  it("compresses lines into gzip members as they come; a part closes once its members reach its size", () => {
    const b = new PartBatcher(3_000, 1_000);
    const sent = Array.from({ length: 40 }, () => Buffer.from(`${randomBytes(100).toString("hex")}\n`));
    const parts = sent.map((l) => b.add(l, l.length)).filter((p) => p !== undefined);
    parts.push(b.flush()!);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.reduce((n, p) => n + p.units, 0)).toBe(40);
    // The members of a part are one gzip file; the parts, in order, are the lines.
    const text = parts.map((p) => gunzipSync(Buffer.concat(p.members)).toString()).join("");
    expect(text).toBe(sent.join(""));
    for (const p of parts.slice(0, -1)) expect(p.bytes).toBeGreaterThanOrEqual(3_000);
    expect(new PartBatcher().flush()).toBeUndefined();
  });
});
