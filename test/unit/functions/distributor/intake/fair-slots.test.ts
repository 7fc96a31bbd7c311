import { FairSlots, type SlotOrder } from "../../../../../functions/distributor/intake/fair-slots";

/** Tasks that finish when the test says; records the order they started in. */
function harness(capacity: number, options: { order?: SlotOrder; perKey?: number } = {}) {
  const slots = new FairSlots(capacity, options);
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const add = (key: string, id: string) =>
    slots.run(
      key,
      () =>
        new Promise<string>((resolve) => {
          started.push(id);
          finish.set(id, () => resolve(id));
        }),
      async () => `cancelled ${id}`,
    );
  const done = async (id: string) => {
    finish.get(id)!();
    finish.delete(id);
    await new Promise((r) => setImmediate(r));
  };
  return { slots, started, add, done };
}

describe("FairSlots", () => {
  it("lets one tenant alone use every slot (work-conserving)", () => {
    const h = harness(4);
    for (let i = 0; i < 6; i++) void h.add("flood", `f${i}`);
    expect(h.started).toEqual(["f0", "f1", "f2", "f3"]);
    expect(h.slots.held).toBe(6);
    expect(h.slots.waitingFor("flood")).toBe(2);
  });

  it("gives a freed slot to the tenant with the fewest running, then to the oldest waiting", async () => {
    const h = harness(3);
    for (let i = 0; i < 5; i++) void h.add("flood", `f${i}`);
    void h.add("quiet-a", "a0");
    void h.add("quiet-b", "b0");
    void h.add("quiet-a", "a1");

    await h.done("f0");
    await h.done("f1");
    await h.done("f2");
    // a0 arrived before b0; a1 waits until quiet-b had its turn (a has one running by then).
    expect(h.started).toEqual(["f0", "f1", "f2", "a0", "b0", "f3"]);
    await h.done("a0");
    expect(h.started.at(-1)).toBe("a1");
  });

  it("in arrival order, the oldest waiting task starts whoever it belongs to", async () => {
    const h = harness(2, { order: "arrival" });
    for (let i = 0; i < 4; i++) void h.add("flood", `f${i}`);
    void h.add("quiet", "q0");
    await h.done("f0");
    await h.done("f1");
    expect(h.started).toEqual(["f0", "f1", "f2", "f3"]);
  });

  it("caps one key's running tasks when asked to", async () => {
    const h = harness(4, { perKey: 2 });
    for (let i = 0; i < 4; i++) void h.add("flood", `f${i}`);
    void h.add("quiet", "q0");
    expect(h.started).toEqual(["f0", "f1", "q0"]);
    await h.done("q0");
    expect(h.started).toEqual(["f0", "f1", "q0"]);
    await h.done("f0");
    expect(h.started.at(-1)).toBe("f2");
  });

  it("cancels what has not started: each resolves through its cancel, the running finish", async () => {
    const h = harness(1);
    const first = h.add("t", "t0");
    const second = h.add("t", "t1");
    expect(h.slots.cancelWaiting()).toBe(1);
    await expect(second).resolves.toBe("cancelled t1");
    await h.done("t0");
    await expect(first).resolves.toBe("t0");
    await h.slots.drained();
    expect(h.slots.held).toBe(0);
  });

  it("refuses a capacity or cap below 1", () => {
    expect(() => new FairSlots(0)).toThrow("capacity must be at least 1, got 0");
    expect(() => new FairSlots(2, { perKey: 0 })).toThrow("perKey must be at least 1, got 0");
  });
});
