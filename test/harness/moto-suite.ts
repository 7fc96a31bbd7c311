import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emulatorEnv, type MotoServer, startMoto } from "../../scripts/moto";

/** Where running emulators are recorded, so globalTeardown can stop any a crashed suite left. */
export const PID_DIR = join(__dirname, "..", "..", ".tmp", "moto-pids");

/** `<test run pid>-<emulator pid>`: global-teardown stops only its own run's (or dead runs') emulators. */
const pidFile = (motoPid: number) => `${process.env.LOGRELAY_TEST_RUN ?? process.ppid}-${motoPid}`;

/**
 * Gives the calling test file its own moto_server (fresh state, parallel-safe) and points the
 * AWS SDK of this worker at it. Stopped by PID after the suite, pass or fail, after `beforeStop`.
 */
export function useMoto(options: { beforeStop?: () => Promise<void> } = {}): () => string {
  let server: MotoServer | undefined;
  beforeAll(async () => {
    server = await startMoto();
    mkdirSync(PID_DIR, { recursive: true });
    writeFileSync(join(PID_DIR, pidFile(server.pid)), server.endpoint);
    Object.assign(process.env, emulatorEnv(server.endpoint));
    delete process.env.AWS_PROFILE;
    process.env.LOGRELAY_TEST_ENDPOINT = server.endpoint;
  });
  // One hook for both, so suite clean-up (e.g. terraform destroy) runs while the emulator is up.
  afterAll(async () => {
    if (!server) return;
    try {
      await options.beforeStop?.();
    } finally {
      await server.stop();
    }
    rmSync(join(PID_DIR, pidFile(server.pid)), { force: true });
  });
  return () => {
    if (!server)
      throw new Error("useMoto(): the emulator is not started yet (use it inside tests or beforeAll)");
    return server.endpoint;
  };
}
