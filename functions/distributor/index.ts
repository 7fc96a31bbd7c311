import { makeHandler } from "./intake/handler";
import { loadSettings } from "./settings";
import { createDistributor } from "./wiring";

// Cold start: settings are checked and clients built once; a bad setting fails here, naming it.
const settings = loadSettings();
const { engine, recovery } = createDistributor(settings);
export const handler = makeHandler(
  engine,
  { ...(settings.MAX_PARALLEL_DELIVERIES && { maxParallel: settings.MAX_PARALLEL_DELIVERIES }) },
  recovery,
);
