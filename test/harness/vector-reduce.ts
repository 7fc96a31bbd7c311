/**
 * The rules of Vector 0.56's `reduce` transform (src/transforms/reduce/transform.rs, read at the
 * v0.56.0 tag), for the merge logrelay configures: events are grouped by the `group_by` fields;
 * an event for which `starts_when` holds flushes its group's open event and starts a new one;
 * otherwise it joins the open event, and the event that brings a group to `max_events` is added
 * and the group flushed; a group with no new event for `expire_after_ms` is flushed (Vector checks
 * every `flush_period_ms`). `message` is merged with `concat_newline`; other fields keep the first
 * event's value. Used to test the merge over fixtures with the real VRL condition deciding.
 */
export interface ReduceInput {
  readonly message: string;
  readonly file: string;
  readonly stream: string;
  /** Arrival time in ms (for expiry). */
  readonly at: number;
}

export interface ReduceOptions {
  readonly groupBy: readonly (keyof ReduceInput)[];
  readonly maxEvents: number;
  readonly expireAfterMs: number;
}

export interface Reduced {
  readonly message: string;
  readonly file: string;
  readonly stream: string;
  readonly lines: number;
}

export function reduceLikeVector(
  inputs: readonly ReduceInput[],
  startsWhen: (event: ReduceInput) => boolean,
  options: ReduceOptions,
): Reduced[] {
  const out: Reduced[] = [];
  const open = new Map<string, { first: ReduceInput; messages: string[]; lastAt: number }>();
  const flush = (key: string) => {
    const group = open.get(key);
    if (!group) return;
    open.delete(key);
    out.push({
      message: group.messages.join("\n"),
      file: group.first.file,
      stream: group.first.stream,
      lines: group.messages.length,
    });
  };
  for (const event of inputs) {
    for (const [key, group] of open) if (event.at - group.lastAt >= options.expireAfterMs) flush(key);
    const key = JSON.stringify(options.groupBy.map((f) => event[f]));
    const starts = startsWhen(event);
    const group = open.get(key);
    const ends =
      options.maxEvents === 1 || (group !== undefined && group.messages.length + 1 === options.maxEvents);
    if (starts) {
      flush(key);
      open.set(key, { first: event, messages: [event.message], lastAt: event.at });
    } else if (ends) {
      const current = group ?? { first: event, messages: [], lastAt: event.at };
      current.messages.push(event.message);
      open.set(key, current);
      flush(key);
    } else if (group) {
      group.messages.push(event.message);
      group.lastAt = event.at;
    } else {
      open.set(key, { first: event, messages: [event.message], lastAt: event.at });
    }
  }
  for (const key of [...open.keys()]) flush(key);
  return out;
}
