import { OrderedSender } from "../../../../../../functions/distributor/delivery/destinations/ordered-sender";

const tick = () => new Promise((r) => setImmediate(r));

describe("OrderedSender", () => {
  it("keeps one call in flight: the next starts only after the one before has finished, in order", async () => {
    const sender = new OrderedSender();
    const log: string[] = [];
    const gates: (() => void)[] = [];
    const call = (name: string) => () =>
      new Promise<void>((resolve) => {
        log.push(`start ${name}`);
        gates.push(() => {
          log.push(`end ${name}`);
          resolve();
        });
      });

    await sender.send(call("a")); // starts at once, not awaited
    const second = sender.send(call("b"));
    await tick();
    expect(log).toEqual(["start a"]);
    gates.shift()!();
    await second;
    expect(log).toEqual(["start a", "end a", "start b"]);
    gates.shift()!();
    await sender.settle();
    expect(log).toEqual(["start a", "end a", "start b", "end b"]);
  });

  it("a failed call surfaces at the next send, which then does not start", async () => {
    const sender = new OrderedSender();
    let started = 0;
    await sender.send(async () => {
      throw new Error("refused");
    });
    await expect(
      sender.send(async () => {
        started++;
      }),
    ).rejects.toThrow("refused");
    expect(started).toBe(0);
    await expect(sender.settle()).resolves.toBeUndefined();
  });

  it("a failed last call surfaces at settle", async () => {
    const sender = new OrderedSender();
    await sender.send(async () => {
      throw new Error("throttled");
    });
    await expect(sender.settle()).rejects.toThrow("throttled");
  });
});
