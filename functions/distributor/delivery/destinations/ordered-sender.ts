/**
 * Sends in order with one call in flight: `send` waits for the call before it, so the reader can
 * read, parse and batch the next batch while one is on the wire (memory holds the batch in flight,
 * the next one and the one being filled). A failed call surfaces at the next `send` or `settle`.
 */
export class OrderedSender {
  private inFlight: Promise<void> | undefined;

  /** Waits for the call in flight, then starts `call` without waiting for it. */
  async send(call: () => Promise<void>): Promise<void> {
    await this.settle();
    const started = call();
    // Its failure is thrown by the next settle(); until then it is not unhandled.
    started.catch(() => {});
    this.inFlight = started;
  }

  /** Waits for the call in flight (if any); throws its failure. */
  async settle(): Promise<void> {
    const sending = this.inFlight;
    this.inFlight = undefined;
    await sending;
  }
}
