import { findMoto } from "../../scripts/moto";
import { findProviderMirror, requireTerraform } from "../../scripts/terraform";

/**
 * Integration prerequisites, checked once before any suite: a missing emulator or terraform fails
 * the run at once with how to install it, instead of skipping tests.
 */
export default async function globalSetup(): Promise<void> {
  // Workers inherit this: each emulator is recorded with the run that started it.
  process.env.LOGRELAY_TEST_RUN = String(process.pid);
  findMoto();
  requireTerraform();
  findProviderMirror();
}
