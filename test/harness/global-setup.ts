import { emulatorEnv, startMoto } from "./moto";

/** Starts one moto_server for the integration project; workers inherit its address. */
export default async function globalSetup(): Promise<void> {
  const moto = await startMoto();
  process.env.LOGRELAY_MOTO_PID = String(moto.pid);
  process.env.LOGRELAY_TEST_ENDPOINT = moto.endpoint;
  Object.assign(process.env, emulatorEnv(moto.endpoint));
  delete process.env.AWS_PROFILE;
}
