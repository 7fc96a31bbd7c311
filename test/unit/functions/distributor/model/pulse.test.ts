import { MAX_MISSING, type Pulse, pulseAfter } from "../../../../../functions/distributor/model/pulse";

const T0 = Date.parse("2026-12-06T21:00:00Z");
const beat = (seq: number, series = "s1") => ({ series, seq, emittedAtMs: T0 + seq * 60_000 });
const pulseOf = (previous: Pulse | undefined, seqs: number[], series = "s1", atMs = T0 + 3_600_000) =>
  pulseAfter(
    previous,
    "rosa-1",
    seqs.map((n) => beat(n, series)),
    atMs,
  )!;

describe("pulseAfter: a cluster's pulse from the heartbeats delivered", () => {
  it("a first delivery starts the series; skipped numbers are gaps", () => {
    const { pulse, newBeats, gapsAdded } = pulseOf(undefined, [1, 3, 5]);
    expect(pulse).toMatchObject({ series: "s1", lastSeq: 5, missing: [2, 4], gaps: 2, version: 1 });
    expect([newBeats, gapsAdded]).toEqual([3, 2]);
    expect(pulse.lastEmittedAt).toBe(new Date(T0 + 5 * 60_000).toISOString());
  });

  it("a late heartbeat closes its gap; a repeat changes nothing", () => {
    const first = pulseOf(undefined, [1, 3, 5]).pulse;
    const late = pulseOf(first, [4]);
    expect(late.pulse).toMatchObject({ lastSeq: 5, missing: [2], gaps: 1 });
    expect([late.newBeats, late.gapsAdded]).toEqual([1, -1]);
    const repeat = pulseOf(late.pulse, [1, 3, 4, 5]);
    expect(repeat.pulse).toMatchObject({ lastSeq: 5, missing: [2], gaps: 1 });
    expect([repeat.newBeats, repeat.gapsAdded]).toEqual([0, 0]);
  });

  it("a gap across deliveries: the numbers between the last seen and the next", () => {
    const first = pulseOf(undefined, [1, 2]).pulse;
    expect(pulseOf(first, [6, 7]).pulse).toMatchObject({ lastSeq: 7, missing: [3, 4, 5], gaps: 3 });
  });

  it("a restart (a newer series) starts from its first number and keeps the old gaps", () => {
    const first = pulseOf(undefined, [1, 3]).pulse;
    const restart = pulseAfter(
      first,
      "rosa-1",
      [{ series: "s2", seq: 1, emittedAtMs: T0 + 600_000 }],
      T0 + 660_000,
    )!;
    expect(restart.pulse).toMatchObject({ series: "s2", lastSeq: 1, missing: [], gaps: 1 });
    // A heartbeat of the older series arriving afterwards changes nothing.
    const stale = pulseAfter(restart.pulse, "rosa-1", [beat(2, "s1")], T0 + 700_000)!;
    expect(stale.pulse).toMatchObject({ series: "s2", lastSeq: 1, gaps: 1 });
    expect(stale.newBeats).toBe(0);
  });

  it("lag is from the newest heartbeat's emit time to the delivery", () => {
    const { pulse } = pulseAfter(undefined, "rosa-1", [beat(1), beat(2)], T0 + 2 * 60_000 + 75_000)!;
    expect(pulse.lagSeconds).toBe(75);
    expect(pulse.lastDeliveredAt).toBe(new Date(T0 + 2 * 60_000 + 75_000).toISOString());
  });

  it("remembers at most MAX_MISSING skipped numbers (still counting every gap)", () => {
    const { pulse } = pulseOf(undefined, [1, MAX_MISSING + 102]);
    expect(pulse.gaps).toBe(MAX_MISSING + 100);
    expect(pulse.missing).toHaveLength(MAX_MISSING);
    expect(pulse.missing.at(-1)).toBe(MAX_MISSING + 101);
  });

  it("nothing to record without heartbeats", () => {
    expect(pulseAfter(undefined, "rosa-1", [], T0)).toBeUndefined();
  });
});
