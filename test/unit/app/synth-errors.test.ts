import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..", "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");

const valid = {
  name: "broken",
  account_id: "123456789012",
  regions: ["us-east-1"],
};

/** Runs the app's entry point (what `cdktf synth` runs) on one environment file. */
function synthWith(file: string, content: string) {
  const dir = mkdtempSync(join(ROOT, ".tmp", "envs-"));
  try {
    writeFileSync(join(dir, file), content);
    const run = spawnSync(TSX, ["main.ts"], {
      cwd: ROOT,
      env: { ...process.env, LOGRELAY_ENVIRONMENTS_DIR: dir, CDKTF_OUTDIR: join(dir, "out") },
      encoding: "utf8",
      timeout: 60_000,
    });
    return { status: run.status, stderr: run.stderr, stdout: run.stdout, path: join(dir, file) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const expectOneClearMessage = (stderr: string) => {
  expect(stderr).not.toMatch(/^\s+at /m); // no stack frames
  expect(stderr).not.toMatch(/Node\.js v\d+/);
  expect(stderr.startsWith("logrelay: ")).toBe(true);
};

describe("cdktf synth (main.ts) on a broken environment file: one message naming the file, the field and the fix; exit 1", () => {
  it("an account id of the wrong length", () => {
    const run = synthWith("broken.json", JSON.stringify({ ...valid, account_id: "12345" }));
    expect(run.status).toBe(1);
    expectOneClearMessage(run.stderr);
    expect(run.stderr).toContain(run.path);
    expect(run.stderr).toContain("account_id: must be a 12-digit AWS account id");
  });

  it("a file that is not JSON", () => {
    const run = synthWith("broken.json", '{ "name": "broken", ');
    expect(run.status).toBe(1);
    expectOneClearMessage(run.stderr);
    expect(run.stderr).toContain(`cannot read environment definition ${run.path}`);
  });

  it("an unknown field (a typo) and a cluster in a region without a regional stack", () => {
    const run = synthWith(
      "broken.json",
      JSON.stringify({
        ...valid,
        distributer: {},
        clusters: [{ id: "c1", region: "eu-west-1", oidc_issuer_url: "https://oidc.example.com/c1" }],
      }),
    );
    expect(run.status).toBe(1);
    expectOneClearMessage(run.stderr);
    expect(run.stderr).toMatch(/\(root\): Unrecognized key: "distributer"/);
    expect(run.stderr).toContain(
      'clusters.0.region: cluster region eu-west-1 has no regional stack: add it to "regions"',
    );
  });

  it("a file whose name is not its environment's name", () => {
    const run = synthWith("other.json", JSON.stringify(valid));
    expect(run.status).toBe(1);
    expectOneClearMessage(run.stderr);
    expect(run.stderr).toContain('name: "broken" must match the file name');
  });

  it("a valid file synthesizes (exit 0, nothing on stderr)", () => {
    const run = synthWith("broken.json", JSON.stringify(valid));
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
