import { ClaimHandle } from "../../../../../functions/distributor/delivery/claims";
import { MemoryLedger } from "../../../../harness/fakes";
import { MemoryTelemetry } from "../../../../harness/memory-telemetry";

describe("ClaimHandle", () => {
  const clock = { now: 0 };
  const ledger = new MemoryLedger(() => clock.now);
  const claim = (owner: string) =>
    ClaimHandle.acquire({
      ledger,
      id: "obj#v1|dest",
      owner,
      leaseMs: 10_000,
      telemetry: new MemoryTelemetry(),
      call: (op) => op(),
      now: () => clock.now,
    });
  afterEach(() => {
    clock.now = 0;
    ledger.entries.clear();
  });

  it("renews before a send when less than half the lease is left, so a live owner is not overtaken", async () => {
    const mine = await claim("a");
    if (!(mine instanceof ClaimHandle)) throw new Error("not claimed");
    try {
      clock.now = 6_000; // renewals were delayed: 4 s of lease left
      await mine.ensureHeld();
      clock.now = 12_000; // past the original lease

      const other = await claim("b");

      expect(other).toMatchObject({ state: "busy", owner: "a", leaseUntilMs: 16_000 });
    } finally {
      await mine.release();
    }
  });

  it("does not renew while more than half the lease is left (no extra ledger call per send)", async () => {
    const mine = await claim("a");
    if (!(mine instanceof ClaimHandle)) throw new Error("not claimed");
    clock.now = 4_000;

    await mine.ensureHeld();

    expect(ledger.entries.get("obj#v1|dest")?.leaseUntil).toBe(10_000);
    await mine.release();
  });

  it("refuses to send once another owner has the claim", async () => {
    const mine = await claim("a");
    if (!(mine instanceof ClaimHandle)) throw new Error("not claimed");
    ledger.entries.get("obj#v1|dest")!.owner = "b";
    clock.now = 6_000;

    await expect(mine.ensureHeld()).rejects.toThrow(/no longer held by a/);
    await expect(mine.ensureHeld()).rejects.toThrow(/no longer held by a/);
  });
});
