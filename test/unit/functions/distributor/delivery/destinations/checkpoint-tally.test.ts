import { CheckpointTally } from "../../../../../../functions/distributor/delivery/destinations/checkpoint-tally";
import type { Checkpoint } from "../../../../../../functions/distributor/model/ledger";

const fresh: Checkpoint = {
  eventsDelivered: 0,
  eventsRejected: 0,
  eventsSplit: 0,
  badLines: 0,
  bytes: 0,
  batches: 0,
  eventsFiltered: 0,
  position: 0,
  windowNowMs: 1_000,
  batching: "cw-1",
};
const batch = (n: number, bytes = n * 30) => ({ units: n, bytes });

describe("CheckpointTally", () => {
  it("from a fresh start: each acknowledged batch advances the position and the counts", () => {
    const stats = { badLines: 0 };
    const tally = new CheckpointTally(fresh, stats);
    for (let i = 0; i < 3; i++) expect(tally.skipUnit()).toBe(false);
    tally.rejected();
    stats.badLines = 2;
    const cut = tally.cut();
    const cp = tally.checkpointAfter(batch(3, 90), 1, cut);
    expect(tally.acked).toBe(fresh); // nothing acknowledged until acknowledge()
    tally.acknowledge(cp, 1);
    expect(tally.acked).toEqual({
      ...fresh,
      eventsDelivered: 2,
      eventsRejected: 2, // one by the window, one refused by CloudWatch
      badLines: 2,
      bytes: 90,
      batches: 1,
      position: 3,
    });
  });

  it("resuming: units up to the checkpoint are skipped, and what was counted before them is not counted again", () => {
    const from: Checkpoint = {
      ...fresh,
      eventsDelivered: 5,
      eventsRejected: 1,
      eventsSplit: 1,
      batches: 1,
      bytes: 150,
      position: 5,
    };
    const tally = new CheckpointTally(from, { badLines: 0 });
    // Before the checkpoint: a rejected event and a split event, both already in `from`.
    tally.rejected();
    for (let i = 0; i < 5; i++) {
      if (i === 2) tally.split();
      expect(tally.skipUnit()).toBe(true);
    }
    // At the checkpoint's position exactly: still counted in `from` (the cut came after them).
    tally.rejected();
    expect(tally.counts().eventsRejected).toBe(1);
    // Past it: counted.
    expect(tally.skipUnit()).toBe(false);
    tally.rejected();
    tally.split();
    expect(tally.counts()).toMatchObject({ eventsRejected: 2, eventsSplit: 2, eventsDelivered: 5 });
    const cp = tally.checkpointAfter(batch(1, 30), 0, tally.cut());
    tally.acknowledge(cp, 0);
    expect(cp).toMatchObject({ position: 6, batches: 2, bytes: 180, eventsDelivered: 6, eventsRejected: 2 });
  });

  it("a checkpoint holds only what the reader had counted when its batch was cut", () => {
    const tally = new CheckpointTally(fresh, { badLines: 0 });
    tally.skipUnit();
    const cut = tally.cut();
    tally.rejected(); // read after the cut, while the batch was on the wire
    const cp = tally.checkpointAfter(batch(1), 0, cut);
    tally.acknowledge(cp, 0);
    expect(cp.eventsRejected).toBe(0);
    expect(tally.counts().eventsRejected).toBe(1);
  });

  it("filtered events and redactions count only past the checkpoint; the checkpoint carries the filtered total", () => {
    const from: Checkpoint = { ...fresh, eventsDelivered: 2, eventsFiltered: 1, batches: 1, position: 2 };
    const tally = new CheckpointTally(from, { badLines: 0 });
    tally.filtered("exclude.0"); // before the checkpoint: in `from` already
    tally.redactions().email = 1; // a unit the checkpoint covers: not reported
    tally.skipUnit();
    tally.skipUnit();
    tally.filtered("include"); // at the checkpoint's position: the cut came after it
    tally.redactions().email = 5; // the next unit is past the checkpoint: reported
    expect(tally.skipUnit()).toBe(false);
    tally.filtered("exclude.0");
    expect(tally.shaping).toEqual({ filtered: { "exclude.0": 1 }, redactions: { email: 5 } });
    expect(tally.counts().eventsFiltered).toBe(2);
    const cp = tally.checkpointAfter(batch(1), 0, tally.cut());
    expect(cp.eventsFiltered).toBe(2);
  });
});
