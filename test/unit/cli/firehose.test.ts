import { gzipSync } from "node:zlib";
import {
  type ErrorObjectSource,
  PUT_RECORD_BATCH,
  type RecordSink,
  redriveErrorOutput,
} from "../../../cli/firehose";

/** Error output as Firehose writes it: one JSON document per failed record, rawData in base64. */
const errorLine = (record: unknown, code = "DynamicPartitioning.ActivePartitionsLimitExceeded") =>
  JSON.stringify({
    attemptsMade: 1,
    arrivalTimestamp: 1795384129000,
    errorCode: code,
    errorMessage: "Active partitions limit exceeded",
    attemptEndingTimestamp: 1795384130000,
    rawData: Buffer.from(JSON.stringify(record)).toString("base64"),
  });
const record = (i: number) => ({
  message: `m${i}`,
  tenant_id: "acme",
  cluster_id: "c1",
  application: "a",
  pod_name: "p",
});

class Objects implements ErrorObjectSource {
  readonly deleted: string[] = [];
  constructor(readonly objects: Map<string, Buffer>) {}
  async *list(prefix: string) {
    for (const key of this.objects.keys()) if (key.startsWith(prefix)) yield key;
  }
  open = async (key: string) => {
    const body = this.objects.get(key)!;
    return (async function* () {
      yield body;
    })();
  };
  readonly written = new Map<string, string>();
  put = async (key: string, body: string) => void this.written.set(key, body);
  delete = async (key: string) => void this.deleted.push(key);
}

class Stream implements RecordSink {
  readonly calls: Buffer[][] = [];
  /** Per call: indexes to refuse, or an error to throw. */
  readonly script: (number[] | Error)[] = [];
  putBatch = async (records: Uint8Array[]) => {
    const next = this.script.shift();
    if (next instanceof Error) throw next;
    this.calls.push(records.map((r) => Buffer.from(r)));
    return {
      failed: (next ?? []).map((index) => ({ index, reason: "ServiceUnavailableException Slow down" })),
    };
  };
  get records() {
    return this.calls.flat().map((b) => JSON.parse(b.toString()));
  }
}

const fast = {
  retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
  retryHooks: { sleep: async () => {} },
};
const KEY = "_firehose-errors/activePartitionExceeded/2026/11/22/s-1-2026-11-22-10-15-30-u.gz";

describe("firehose redrive", () => {
  it("re-puts the original record of every error line, and deletes the object with --delete", async () => {
    const lines = Array.from({ length: 3 }, (_, i) => errorLine(record(i)));
    const objects = new Objects(new Map([[KEY, gzipSync(`${lines.join("\n")}\n`)]]));
    const stream = new Stream();

    const [report] = await redriveErrorOutput(objects, stream, {
      prefix: "_firehose-errors/",
      delete: true,
      ...fast,
    });

    expect(stream.records).toEqual([record(0), record(1), record(2)]);
    expect(report).toMatchObject({
      key: KEY,
      records: 3,
      redriven: 3,
      failed: 0,
      badLines: 0,
      deleted: true,
    });
    expect(objects.deleted).toEqual([KEY]);
  });

  it("keeps every PutRecordBatch within 500 records and 4 MiB", async () => {
    const big = "x".repeat(100_000);
    const lines = [
      ...Array.from({ length: 1200 }, (_, i) => errorLine(record(i))),
      ...Array.from({ length: 90 }, (_, i) => errorLine({ ...record(i), message: big })),
    ];
    const objects = new Objects(new Map([[KEY, Buffer.from(lines.join("\n"))]]));
    const stream = new Stream();

    const [report] = await redriveErrorOutput(objects, stream, { prefix: "_firehose-errors/", ...fast });

    expect(report!.redriven).toBe(1290);
    for (const call of stream.calls) {
      expect(call.length).toBeLessThanOrEqual(PUT_RECORD_BATCH.maxRecords);
      expect(call.reduce((n, r) => n + r.length, 0)).toBeLessThanOrEqual(PUT_RECORD_BATCH.maxBytes);
    }
    expect(stream.records.map((r) => r.message.slice(0, 5))).toEqual([
      ...Array.from({ length: 1200 }, (_, i) => `m${i}`.slice(0, 5)),
      ...Array.from({ length: 90 }, () => "xxxxx"),
    ]);
  });

  it("with --delete an object with unusable lines is finished once: good records back, unusable lines kept with why, source gone", async () => {
    const lines = [
      errorLine(record(1)),
      "not json",
      JSON.stringify({ errorCode: "x" }),
      JSON.stringify({ rawData: "%%%not base64%%%" }),
      errorLine(record(2)),
    ];
    const objects = new Objects(new Map([[KEY, Buffer.from(lines.join("\n"))]]));
    const stream = new Stream();

    const [report] = await redriveErrorOutput(objects, stream, {
      prefix: "_firehose-errors/",
      delete: true,
      ...fast,
    });

    expect(stream.records).toEqual([record(1), record(2)]);
    expect(report!.badLines).toBe(3);
    expect(report!.badSamples).toEqual([
      { line: 2, reason: "not JSON" },
      { line: 3, reason: expect.stringMatching(/^rawData: /) },
      { line: 4, reason: "rawData: rawData is not base64" },
    ]);
    const kept = "_firehose-unusable/activePartitionExceeded/2026/11/22/s-1-2026-11-22-10-15-30-u.gz.jsonl";
    expect(report).toMatchObject({ deleted: true, unusable: kept });
    expect(objects.deleted).toEqual([KEY]);
    expect(
      objects.written
        .get(kept)!
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { source: KEY, line: 2, reason: "not JSON", text: "not json" },
      { source: KEY, line: 3, reason: expect.stringMatching(/^rawData: /), text: lines[2] },
      { source: KEY, line: 4, reason: "rawData: rawData is not base64", text: lines[3] },
    ]);
    // A second run finds nothing left to re-put: the good records went in exactly once.
    objects.objects.delete(KEY);
    expect(
      await redriveErrorOutput(objects, stream, { prefix: "_firehose-errors/", delete: true, ...fast }),
    ).toEqual([]);
    expect(stream.records).toHaveLength(2);
  });

  it("retries only the records Firehose refused; what it keeps refusing is reported and the object kept", async () => {
    const lines = Array.from({ length: 4 }, (_, i) => errorLine(record(i)));
    const objects = new Objects(new Map([[KEY, Buffer.from(lines.join("\n"))]]));
    const stream = new Stream();
    stream.script.push([1, 3], [1], [0]);

    const [report] = await redriveErrorOutput(objects, stream, {
      prefix: "_firehose-errors/",
      delete: true,
      ...fast,
    });

    expect(stream.calls.map((c) => c.map((r) => JSON.parse(r.toString()).message))).toEqual([
      ["m0", "m1", "m2", "m3"],
      ["m1", "m3"],
      ["m3"],
    ]);
    expect(report).toMatchObject({ records: 4, redriven: 3, failed: 1, deleted: false });
    expect(report!.error).toBe("Firehose refused 1 record(s): ServiceUnavailableException Slow down");
  });

  it("a throttled call is retried with backoff", async () => {
    const objects = new Objects(new Map([[KEY, Buffer.from(errorLine(record(1)))]]));
    const stream = new Stream();
    stream.script.push(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));

    const [report] = await redriveErrorOutput(objects, stream, { prefix: "_firehose-errors/", ...fast });

    expect(report).toMatchObject({ redriven: 1, failed: 0 });
    expect(stream.records).toEqual([record(1)]);
  });

  it("refuses a record larger than Firehose accepts instead of failing the batch", async () => {
    const lines = [errorLine({ message: "y".repeat(PUT_RECORD_BATCH.maxRecordBytes) }), errorLine(record(1))];
    const objects = new Objects(new Map([[KEY, Buffer.from(lines.join("\n"))]]));
    const stream = new Stream();

    const [report] = await redriveErrorOutput(objects, stream, { prefix: "_firehose-errors/", ...fast });

    expect(stream.records).toEqual([record(1)]);
    expect(report!.badSamples[0]!.reason).toMatch(/is over Firehose's 1024000/);
  });

  it("a dry run checks and counts, but puts and deletes nothing", async () => {
    const objects = new Objects(new Map([[KEY, Buffer.from(errorLine(record(1)))]]));
    const stream = new Stream();

    const [report] = await redriveErrorOutput(objects, stream, {
      prefix: "_firehose-errors/",
      delete: true,
      dryRun: true,
      ...fast,
    });

    expect(report).toMatchObject({ records: 1, redriven: 1, deleted: false });
    expect(stream.calls).toEqual([]);
    expect(objects.deleted).toEqual([]);
  });

  it("only objects under the prefix are touched", async () => {
    const objects = new Objects(
      new Map([
        [KEY, Buffer.from(errorLine(record(1)))],
        ["_firehose-errors/format-conversion-failed/2026/11/22/x", Buffer.from(errorLine(record(2)))],
      ]),
    );
    const stream = new Stream();

    const reports = await redriveErrorOutput(objects, stream, {
      prefix: "_firehose-errors/activePartitionExceeded/",
      ...fast,
    });

    expect(reports.map((r) => r.key)).toEqual([KEY]);
    expect(stream.records).toEqual([record(1)]);
  });
});
