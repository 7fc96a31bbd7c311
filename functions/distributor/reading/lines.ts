import { isAscii } from "node:buffer";

/**
 * Lines are decoded in pieces of about this many bytes: a string under V8's large-object size
 * (128 KB) is made and dropped in the young generation; a larger one costs a full collection
 * (bench/RESULTS.md has what each size cost).
 */
const DECODE_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * Cuts a byte stream into lines and hands each one, decoded, to `onLine` with its number (1-based).
 * Lines are cut in the bytes, before decoding: a newline byte never occurs inside a UTF-8
 * sequence, so a cut there never splits a character, and no decoder state is carried. A line
 * longer than `maxLineBytes` is refused as it grows (`onLongLine`), never held, and skipped to its
 * end. `push` and `end` say whether the text they decoded was ASCII without `\u` escapes, so every
 * message's UTF-8 size is its length.
 */
export class LineCutter {
  /** Lines seen so far (the number of the last one handed out or skipped). */
  lineNo = 0;
  /** The bytes of the line not yet ended, in the pieces they came in. */
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private skippingLongLine = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: string, lineNo: number) => void,
    private readonly onLongLine: (lineNo: number, maxLineBytes: number) => void,
  ) {}

  /** The whole lines of `chunk` (and the end of a line begun earlier); the rest is carried. */
  push(chunk: Buffer): boolean {
    let ascii = true;
    let pos = 0;
    const last = chunk.lastIndexOf(NEWLINE);
    if (last !== -1) {
      pos = this.endCarriedLine(chunk, (lineAscii) => {
        if (!lineAscii) ascii = false;
      });
      while (pos <= last) {
        let cut = last + 1;
        if (cut - pos > DECODE_BYTES) {
          cut = chunk.lastIndexOf(NEWLINE, pos + DECODE_BYTES) + 1;
          if (cut <= pos) cut = chunk.indexOf(NEWLINE, pos + DECODE_BYTES) + 1; // one long line
        }
        if (!this.decode(chunk, pos, cut)) ascii = false;
        pos = cut;
      }
    }
    if (!this.skippingLongLine && pos < chunk.length) this.hold(chunk.subarray(pos));
    return ascii;
  }

  /** The last line, when the stream does not end with a newline. */
  end(): boolean {
    if (this.skippingLongLine || this.carryBytes === 0) return true;
    const tail = Buffer.concat(this.carry);
    this.carry = [];
    this.carryBytes = 0;
    return this.decode(tail, 0, tail.length);
  }

  /** Ends the line carried from earlier chunks at the first newline of `chunk`; returns where the rest starts. */
  private endCarriedLine(chunk: Buffer, ascii: (lineAscii: boolean) => void): number {
    const first = chunk.indexOf(NEWLINE) + 1;
    if (this.skippingLongLine) {
      this.skippingLongLine = false;
      this.lineNo++;
    } else if (this.carryBytes > 0) {
      const line = Buffer.concat([...this.carry, chunk.subarray(0, first)]);
      ascii(this.decode(line, 0, line.length));
    } else return 0;
    this.carry = [];
    this.carryBytes = 0;
    return first;
  }

  /** Keeps the start of a line that ends in a later chunk, unless it is already too long. */
  private hold(piece: Buffer): void {
    this.carry.push(piece);
    this.carryBytes += piece.length;
    if (this.carryBytes <= this.maxLineBytes) return;
    // Refused now, without holding it; skipped up to its end, where its number is counted.
    this.onLongLine(this.lineNo + 1, this.maxLineBytes);
    this.skippingLongLine = true;
    this.carry = [];
    this.carryBytes = 0;
  }

  /** Decodes the lines in bytes [from, to) and hands them out; true if the text is ASCII without `\u`. */
  private decode(bytes: Buffer, from: number, to: number): boolean {
    // ASCII is its own Latin-1, which decodes as a plain copy.
    const ascii = isAscii(bytes.subarray(from, to));
    const text = bytes.toString(ascii ? "latin1" : "utf8", from, to);
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    if (start < text.length) this.line(text.slice(start));
    // A "\u" escape may stand for a character outside ASCII.
    return ascii && !text.includes("\\u");
  }

  private line(text: string): void {
    this.lineNo++;
    if (text.length > 0) this.onLine(text, this.lineNo);
  }
}
