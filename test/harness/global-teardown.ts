import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { stopPid } from "../../scripts/moto";
import { PID_DIR } from "./moto-suite";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Stops any emulator a crashed suite of this run left running, and those of runs that no longer
 * exist; never one of another test run still going in the same checkout.
 */
export default async function globalTeardown(): Promise<void> {
  if (!existsSync(PID_DIR)) return;
  for (const file of readdirSync(PID_DIR)) {
    const [run, moto] = file.split("-").map(Number);
    if (!run || !moto) continue;
    if (run !== process.pid && alive(run)) continue;
    await stopPid(moto);
    rmSync(join(PID_DIR, file), { force: true });
  }
}
