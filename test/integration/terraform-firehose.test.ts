import { rmSync } from "node:fs";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import {
  applyLocal,
  destroyLocal,
  type LocalWorkspace,
  localOutputs,
  localWorkspace,
  planLocal,
  ROOT,
  synthLocal,
} from "../../scripts/local-pipeline";
import { emulatorEnv } from "../../scripts/moto";
import { REGION } from "../harness/aws";
import { useMoto } from "../harness/moto-suite";

/** The Firehose ingestion option applies too (environments/local-firehose.json). */
describe("firehose ingestion environment applied into the emulator", () => {
  let ws: LocalWorkspace;
  let staging = "";
  let applied = false;
  const endpoint = useMoto({
    beforeStop: async () => {
      if (!applied) return;
      await destroyLocal(ws, [{ client: new S3Client({ region: REGION }), name: staging }]);
      rmSync(ws.outdir, { recursive: true, force: true });
      rmSync(ws.stateDir, { recursive: true, force: true });
    },
  });

  beforeAll(async () => {
    ws = localWorkspace(
      join(ROOT, ".tmp", `tf-firehose-${process.pid}`),
      endpoint(),
      emulatorEnv(endpoint()),
      "local-firehose",
    );
    await synthLocal(ws);
    await applyLocal(ws);
    applied = true;
    staging = (await localOutputs(ws)).regional.staging_bucket!;
  }, 600_000);

  it("creates the partitioned delivery stream, and a second plan shows no changes", async () => {
    const out = await localOutputs(ws);
    expect(out.regional.firehose_stream_name).toBe("logrelay-local-firehose-us-east-1-ingest");
    const plans = await planLocal(ws);
    for (const [stack, plan] of Object.entries(plans)) {
      expect([stack, plan.code, plan.code === 0 ? "" : plan.output]).toEqual([stack, 0, ""]);
    }
  }, 300_000);
});
