import { randomBytes } from "node:crypto";
import * as hyparquet from "hyparquet";
import { CorruptObjectError } from "../../../../../functions/distributor/errors";
import type { ObjectRanges } from "../../../../../functions/distributor/ports";
import { newReadStats } from "../../../../../functions/distributor/reading/log-records";
import {
  isParquetKey,
  readParquetEvents,
  SLICE_ROWS,
} from "../../../../../functions/distributor/reading/parquet-records";
import { firehoseKey, parquetObject } from "../../../../harness/factories";

// The real decoder, watched: which row ranges it is asked for at once.
jest.mock("hyparquet", () => {
  const actual = jest.requireActual("hyparquet");
  return { ...actual, parquetReadObjects: jest.fn(actual.parquetReadObjects) };
});
const decoded = () =>
  (hyparquet.parquetReadObjects as jest.Mock).mock.calls.map(
    ([o]) => [o.rowStart, o.rowEnd] as [number, number],
  );

/** An object in memory, counting its range reads; `fail` decides which reads throw. */
function ranges(body: Buffer, fail: (n: number) => Error | undefined = () => undefined) {
  const reads: [number, number][] = [];
  const object: ObjectRanges = {
    size: body.length,
    read: async (start, end) => {
      reads.push([start, end]);
      const error = fail(reads.length);
      if (error) throw error;
      return new Uint8Array(body.subarray(start, end));
    },
  };
  return { object, reads };
}

async function collect(object: ObjectRanges, fallbackTimestampMs = 0) {
  const stats = newReadStats();
  const events = [];
  for await (const chunk of readParquetEvents(object, { fallbackTimestampMs }, stats)) events.push(...chunk);
  return { events, stats };
}

const row = (i: number) => ({
  message: `request ${i} served`,
  timestamp: new Date(Date.UTC(2026, 10, 22, 10, 0, i)).toISOString(),
  tenant_id: "acme",
  cluster_id: "rosa-prod-1",
  application: "payment-service",
  pod_name: "payment-service-7d9f8-x2k4q",
  stream: "stdout",
});

describe("Parquet staged objects (Firehose format conversion)", () => {
  it("recognises Parquet objects by the extension Firehose is configured with", () => {
    const segments = { tenant: "acme", cluster: "c1", application: "app", pod: "p" };
    expect(isParquetKey(firehoseKey(segments, ".parquet"))).toBe(true);
    expect(isParquetKey(firehoseKey(segments, ".gz"))).toBe(false);
  });

  it("yields every row as an event, in order, with its message and time", async () => {
    const rows = Array.from({ length: 25 }, (_, i) => row(i));
    const { object } = ranges(parquetObject(rows));

    const { events, stats } = await collect(object);

    expect(events).toEqual(rows.map((r) => ({ message: r.message, timestamp: Date.parse(r.timestamp) })));
    expect(stats).toMatchObject({ lines: 25, events: 25, badLines: 0 });
  });

  it("reads one row group at a time through range reads, not the whole object at once", async () => {
    // Incompressible messages: about 3 MB, larger than the reader's first footer fetch (512 KB).
    const rows = Array.from({ length: 8000 }, (_, i) => ({
      ...row(i % 60),
      message: `line ${i} ${randomBytes(180).toString("hex")}`,
    }));
    const body = parquetObject(rows, { rowGroupSize: 2000 });
    const { object, reads } = ranges(body);

    const { events } = await collect(object);

    expect(events.map((e) => e.message)).toEqual(rows.map((r) => r.message));
    // The footer, then the row groups: no read covers much more than one row group.
    expect(reads.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...reads.map(([s, e]) => e - s))).toBeLessThan(body.length / 3);
  });

  it("decodes a large row group in slices, reading its column chunks once", async () => {
    // One row group of 2.5 slices, as Firehose writes up to 128 MiB of events per group.
    const total = Math.floor(SLICE_ROWS * 2.5);
    const rows = Array.from({ length: total }, (_, i) => ({ ...row(i % 60), message: `line ${i}` }));
    const body = parquetObject(rows, { rowGroupSize: total });
    const { object, reads } = ranges(body);
    (hyparquet.parquetReadObjects as jest.Mock).mockClear();

    const { events } = await collect(object);

    expect(events.map((e) => e.message)).toEqual(rows.map((r) => r.message));
    expect(decoded()).toEqual([
      [0, SLICE_ROWS],
      [SLICE_ROWS, 2 * SLICE_ROWS],
      [2 * SLICE_ROWS, total],
    ]);
    // Each range (the footer, then the group's column chunks) is read once, whatever the slices.
    expect(new Set(reads.map(([s, e]) => `${s}:${e}`)).size).toBe(reads.length);
  });

  it("falls back to the object's time, and to the whole row when there is no message", async () => {
    const body = parquetObject([{ message: null, timestamp: null, application: "x", pod_name: "p" }], {
      columns: ["message", "timestamp", "application", "pod_name"],
    });

    const { events } = await collect(ranges(body).object, 1_795_000_000_000);

    expect(events).toEqual([
      {
        timestamp: 1_795_000_000_000,
        message: JSON.stringify({ message: null, timestamp: null, application: "x", pod_name: "p" }),
      },
    ]);
  });

  it("refuses an object that is not Parquet as corrupt (permanent), naming the problem", async () => {
    const notParquet = Buffer.from('{"message":"this is NDJSON, not Parquet"}\n'.repeat(10));
    await expect(collect(ranges(notParquet).object)).rejects.toThrow(CorruptObjectError);
    await expect(collect(ranges(notParquet).object)).rejects.toThrow(/not valid Parquet \(footer\)/);
    await expect(collect(ranges(Buffer.from("PAR1")).object)).rejects.toThrow(/only 4 bytes/);
  });

  it("a truncated object is corrupt too", async () => {
    const body = parquetObject([row(1), row(2)]);
    const truncated = Buffer.concat([body.subarray(0, 40), body.subarray(body.length - 40)]);
    await expect(collect(ranges(truncated).object)).rejects.toThrow(CorruptObjectError);
  });

  it("an S3 error during a range read passes through unchanged (it keeps its retry class)", async () => {
    const throttled = Object.assign(new Error("Please reduce your request rate."), { name: "SlowDown" });
    const { object } = ranges(parquetObject([row(1)]), (n) => (n === 2 ? throttled : undefined));

    await expect(collect(object)).rejects.toBe(throttled);
  });
});
