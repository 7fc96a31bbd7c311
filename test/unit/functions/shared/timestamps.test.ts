import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { isoTimeMs, parseTimestamp } from "../../../../functions/shared/timestamps";

const ROOT = join(__dirname, "..", "..", "..", "..");

/** Every accepted form, with the UTC instant it stands for (docs/delivery-semantics.md lists them). */
const ACCEPTED: [unknown, string][] = [
  ["2026-12-06T21:15:35Z", "2026-12-06T21:15:35.000Z"],
  ["2026-12-06T21:15:35.250Z", "2026-12-06T21:15:35.250Z"],
  ["2026-12-06T21:15:35.123456789Z", "2026-12-06T21:15:35.123Z"],
  ["2026-12-06t21:15:35z", "2026-12-06T21:15:35.000Z"],
  ["2026-12-06T21:15:35+05:30", "2026-12-06T15:45:35.000Z"],
  ["2026-12-06T21:15:35-0500", "2026-12-07T02:15:35.000Z"],
  ["2026-12-06T21:15:35+01", "2026-12-06T20:15:35.000Z"],
  ["2026-12-06 21:15:35Z", "2026-12-06T21:15:35.000Z"],
  // Without a zone: UTC, never the host's zone.
  ["2026-12-06 21:15:35", "2026-12-06T21:15:35.000Z"],
  ["2026-12-06T21:15:36", "2026-12-06T21:15:36.000Z"],
  ["2026-12-06T21:15:37.250", "2026-12-06T21:15:37.250Z"],
  ["2026-12-06T21:15", "2026-12-06T21:15:00.000Z"],
  ["2026-12-06T21:15:35,5", "2026-12-06T21:15:35.500Z"],
  ["2026-12-06", "2026-12-06T00:00:00.000Z"],
  // RFC 2822 / HTTP dates, only with an explicit zone.
  ["Sun, 06 Dec 2026 21:15:35 GMT", "2026-12-06T21:15:35.000Z"],
  ["6 Dec 2026 21:15:35 +0100", "2026-12-06T20:15:35.000Z"],
  // Epoch seconds, milliseconds, microseconds, nanoseconds (numbers or digit strings).
  [1796591735, "2026-12-06T21:15:35.000Z"],
  ["1796591735250", "2026-12-06T21:15:35.250Z"],
  [1796591735250000, "2026-12-06T21:15:35.250Z"],
];

/** Read leniently by Date.parse, or by the host's zone: no time (the object's time is used). */
const REFUSED: unknown[] = [
  "Sun, 06 Dec 2026 21:15:35", // RFC 2822 without a zone
  "Dec 6, 2026 21:15:35", // locale formats
  "12/06/2026 21:15:35",
  "2026-12",
  "December 6 2026",
  "yesterday",
  "2026-12-06T25:00:00Z",
  "2026-12-06T21:60:00Z",
  "2026-12-06T21:15:60Z",
  "2026-13-06T21:15:35Z",
  "2026-12-06T21:15:35.Z",
  "2026-12-06T21:15:35+5:30",
  "",
  -5,
  0,
  null,
  {},
];

describe("parseTimestamp: one rule for every time logrelay reads", () => {
  it.each(ACCEPTED)("reads %j as %s", (value, iso) => {
    expect(parseTimestamp(value)).toBe(Date.parse(iso));
  });

  it.each(REFUSED.map((v) => [v]))("refuses %j", (value) => {
    expect(parseTimestamp(value)).toBeUndefined();
  });

  it("isoTimeMs reads the ISO forms only", () => {
    expect(isoTimeMs("2026-12-06 21:15:35")).toBe(Date.parse("2026-12-06T21:15:35Z"));
    expect(isoTimeMs("1796591735")).toBeUndefined();
    expect(isoTimeMs("Sun, 06 Dec 2026 21:15:35 GMT")).toBeUndefined();
  });

  it("gives the same answers whatever the host's time zone (east and west of UTC)", () => {
    const program = `
      const { parseTimestamp } = require("./functions/shared/timestamps");
      const values = ${JSON.stringify([...ACCEPTED.map(([v]) => v), ...REFUSED])};
      process.stdout.write(JSON.stringify(values.map((v) => parseTimestamp(v) ?? null)));
    `;
    const answers = ["UTC", "Asia/Kolkata", "America/New_York", "Pacific/Chatham"].map((tz) => {
      const run = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), ["-e", program], {
        cwd: ROOT,
        env: { ...process.env, TZ: tz },
        encoding: "utf8",
      });
      expect(run.stderr).toBe("");
      return [tz, JSON.parse(run.stdout)];
    });
    const expected = [...ACCEPTED.map(([, iso]) => Date.parse(iso)), ...REFUSED.map(() => null)];
    for (const [tz, values] of answers) expect([tz, values]).toEqual([tz, expected]);
  });
});
