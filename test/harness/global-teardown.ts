import { stopPid } from "./moto";

export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env.LOGRELAY_MOTO_PID);
  if (pid > 0) await stopPid(pid);
}
