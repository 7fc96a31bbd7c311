import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { stopPid } from "../../scripts/moto";
import { PID_DIR } from "./moto-suite";

/** Stops any emulator a crashed suite left running. */
export default async function globalTeardown(): Promise<void> {
  if (!existsSync(PID_DIR)) return;
  for (const pid of readdirSync(PID_DIR)) {
    await stopPid(Number(pid));
    rmSync(join(PID_DIR, pid), { force: true });
  }
}
