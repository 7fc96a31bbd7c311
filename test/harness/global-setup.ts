import { findMoto } from "../../scripts/moto";
import { findProviderMirror, requireTerraform } from "../../scripts/terraform";

/**
 * Integration prerequisites, checked once before any suite: a missing emulator or terraform fails
 * the run at once with how to install it, instead of skipping tests.
 */
export default async function globalSetup(): Promise<void> {
  findMoto();
  requireTerraform();
  findProviderMirror();
}
