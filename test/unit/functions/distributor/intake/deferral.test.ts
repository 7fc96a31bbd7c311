import { DeferralPlanner, RESERVED_ATTEMPTS } from "../../../../../functions/distributor/intake/deferral";

const OPTIONS = { slots: 10, minWaiting: 5, maxWaiting: 100, maxReceiveCount: 5 };

function planner(options = OPTIONS) {
  const clock = { now: 1_000_000 };
  return { clock, p: new DeferralPlanner(options, () => clock.now) };
}

const message = (id: string, receiveCount = 1) => ({
  messageId: id,
  receiptHandle: `rh-${id}`,
  receiveCount,
});

describe("DeferralPlanner", () => {
  it("keeps a tenant's messages up to its waiting cap and defers the next ones", () => {
    const { p } = planner();
    expect(p.waitingCap("flood")).toBe(5);
    expect(p.deferral("flood", message("a"), 4)).toBeUndefined();
    expect(p.deferral("flood", message("b"), 5)).toBeGreaterThanOrEqual(1);
  });

  it("sizes the cap to about 2 s of the tenant's deliveries on every slot, within its bounds", () => {
    const { p } = planner();
    p.finished("flood", 200);
    // 2 s x 10 slots / 0.2 s = 100 messages; a slow tenant gets the minimum.
    expect(p.waitingCap("flood")).toBe(100);
    p.finished("slow", 60_000);
    expect(p.waitingCap("slow")).toBe(5);
    // A tenant not seen yet is sized by everyone's average so far.
    expect(p.waitingCap("new")).toBeGreaterThanOrEqual(5);
    p.finished("fast", 1);
    expect(p.waitingCap("fast")).toBe(100);
  });

  it("staggers the deferrals: each returns about when the tenant's line will have room for it", () => {
    const { p } = planner();
    for (let i = 0; i < 10; i++) p.finished("flood", 1_000);
    const cap = p.waitingCap("flood");
    expect(cap).toBe(20);
    const seconds = Array.from({ length: 200 }, (_, i) => p.deferral("flood", message(`m${i}`), cap)!);
    // 1 s per delivery over 10 slots: 0.1 s per message; the line has room for the k-th once
    // cap/2 + k of those ahead have started; aimed late by half.
    const expected = (k: number) => Math.ceil((cap + k - cap / 2) * 0.1 * 1.5);
    expect(seconds[0]).toBe(expected(1));
    expect(seconds.at(-1)).toBe(expected(200));
    for (let i = 1; i < seconds.length; i++) expect(seconds[i]!).toBeGreaterThanOrEqual(seconds[i - 1]!);
    expect(p.outstanding().count).toBe(200);
  });

  it("never spends a message's last receives: it is kept once deferring would leave fewer than 3", () => {
    const { p } = planner();
    expect(RESERVED_ATTEMPTS).toBe(3);
    expect(p.deferral("flood", message("a", 2), 50)).toBeGreaterThanOrEqual(1);
    expect(p.deferral("flood", message("b", 3), 50)).toBeUndefined();
    const strict = planner({ ...OPTIONS, maxReceiveCount: 3 }).p;
    expect(strict.deferral("flood", message("c", 1), 50)).toBeUndefined();
  });

  it("forgets a deferral once it is due, or once the message is received again", () => {
    const { p, clock } = planner();
    const seconds = p.deferral("flood", message("a"), 5)!;
    p.deferral("flood", message("b"), 5);
    expect(p.outstanding().count).toBe(2);
    expect(p.outstanding().nextDue).toBe(clock.now + seconds * 1000);
    p.deferral("flood", message("a"), 0);
    expect(p.outstanding().count).toBe(1);
    clock.now += 3_600_000;
    expect(p.outstanding()).toEqual({ count: 0, nextDue: Number.POSITIVE_INFINITY });
  });

  it("recalls the earliest deferred messages when the tenant's line runs low, and keeps them when they come", () => {
    const { p, clock } = planner();
    p.finished("flood", 10_000);
    for (let i = 0; i < 30; i++) p.deferral("flood", message(`m${i}`), 5);
    // Half the cap or more waiting: nothing to recall.
    expect(p.recall("flood", 3)).toEqual([]);
    // Running low: up to the cap, those not about to return anyway, earliest first.
    const recalled = p.recall("flood", 0);
    expect(recalled).toEqual(["rh-m0", "rh-m1", "rh-m2", "rh-m3", "rh-m4"]);
    // On their way: not recalled twice, nor more while they travel.
    expect(p.recall("flood", 0)).toEqual([]);
    expect(p.deferral("flood", message("m0", 2), 50)).toBeUndefined();
    expect(p.outstanding().count).toBe(25);
    // A recalled message that never arrives (another consumer took it) stops counting after a while.
    clock.now += 6_000;
    expect(p.recall("flood", 0)[0]).toBe("rh-m5");
  });

  it("does not recall a message about to come back anyway", () => {
    const { p, clock } = planner();
    p.finished("flood", 100);
    const seconds = p.deferral("flood", message("soon"), p.waitingCap("flood"))!;
    expect(seconds).toBe(1);
    expect(p.recall("flood", 0)).toEqual([]);
    clock.now += 500;
    expect(p.recall("flood", 0)).toEqual([]);
  });
});
