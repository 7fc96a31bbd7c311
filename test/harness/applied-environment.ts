import { rmSync } from "node:fs";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import {
  applyLocal,
  destroyLocal,
  type LocalOutputs,
  type LocalWorkspace,
  localOutputs,
  localWorkspace,
  planLocal,
  ROOT,
  synthLocal,
} from "../../scripts/local-pipeline";
import { emulatorEnv } from "../../scripts/moto";
import { accountCredentials, CENTRAL_ACCOUNT, REGION } from "./aws";
import { useMoto } from "./moto-suite";

/** Buckets a suite fills besides the staging bucket: emptied before destroy (see destroyLocal). */
export type ExtraBuckets = (ws: LocalWorkspace) => { account: string; name: string }[];

/**
 * An emulator environment (environments/<name>.json) as users deploy it: its own moto, `cdktf
 * synth`, terraform init/validate/apply of every stack before the suite; after it, the buckets
 * emptied and every stack destroyed, pass or fail, before the emulator stops.
 */
export function useAppliedEnvironment(envName: string, extraBuckets: ExtraBuckets = () => []) {
  let ws: LocalWorkspace | undefined;
  let out: LocalOutputs | undefined;
  const endpoint = useMoto({
    beforeStop: async () => {
      if (!ws || !out) return;
      const buckets = [{ account: CENTRAL_ACCOUNT, name: out.regional.staging_bucket! }, ...extraBuckets(ws)];
      await destroyLocal(
        ws,
        await Promise.all(
          buckets.map(async (b) => ({
            client: new S3Client({
              region: REGION,
              ...(b.account !== CENTRAL_ACCOUNT && { credentials: await accountCredentials(b.account) }),
            }),
            name: b.name,
          })),
        ),
      );
      rmSync(ws.outdir, { recursive: true, force: true });
      rmSync(ws.stateDir, { recursive: true, force: true });
    },
  });

  beforeAll(async () => {
    const workspace = localWorkspace(
      join(ROOT, ".tmp", `tf-${envName}-${process.pid}`),
      endpoint(),
      emulatorEnv(endpoint()),
      envName,
    );
    await synthLocal(workspace);
    await applyLocal(workspace);
    ws = workspace;
    out = await localOutputs(workspace);
  }, 600_000);

  const applied = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`environments/${envName}.json is not applied (see beforeAll)`);
    return value;
  };
  return { ws: () => applied(ws), out: () => applied(out), endpoint };
}

/** A second plan of every stack (`logrelay infra plan`) must show no changes and no drift from state. */
export async function expectNoChanges(ws: LocalWorkspace): Promise<void> {
  const reports = await planLocal(ws);
  expect(reports.map((r) => [r.stack, r.result, r.changes, r.drift, r.error])).toEqual(
    reports.map((r) => [r.stack, "no changes", [], [], undefined]),
  );
}
